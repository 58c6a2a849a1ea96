"""YAML as people write it: ``1e-3`` is a number.

PyYAML follows YAML 1.1, where a float needs a dot (``1.0e-3``) and ``1e-3`` is a string; YAML
1.2, and every other reader a user knows (Python, JSON), take it as a number. Learning rates are
written that way in search spaces and on the command line.
"""

import re

import yaml

# YAML 1.1's float pattern with the dot made optional where an exponent follows.
_FLOAT = re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
  | [-+]?(?:[0-9][0-9_]*)[eE][-+]?[0-9]+
  | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
  | [-+]?\.(?:inf|Inf|INF)
  | \.(?:nan|NaN|NAN)
)$""", re.X)


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-3`` as a float."""


SafeLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def safe_load(stream):
    """:func:`yaml.safe_load` with :class:`SafeLoader`."""
    return yaml.load(stream, Loader=SafeLoader)
