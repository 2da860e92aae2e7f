package io.ckpt4j.pickle;

import java.util.Map;

/**
 * Python 2 module and global names in Python 3 spelling, the subset of Python's
 * {@code _compat_pickle} that plain data and PyTorch checkpoints meet. PyTorch's weights-only
 * unpickler applies the same mapping, so a resolver sees {@code builtins.set} however old the file.
 */
final class Py2Names {
  private static final Map<String, String> MODULES =
      Map.of("__builtin__", "builtins", "copy_reg", "copyreg");
  /** ("module\nname") to {module, name}. */
  private static final Map<String, String[]> NAMES = Map.of(
      "__builtin__\nxrange", new String[] {"builtins", "range"},
      "__builtin__\nreduce", new String[] {"functools", "reduce"},
      "__builtin__\nintern", new String[] {"sys", "intern"},
      "__builtin__\nunichr", new String[] {"builtins", "chr"},
      "__builtin__\nunicode", new String[] {"builtins", "str"},
      "__builtin__\nlong", new String[] {"builtins", "int"});

  private Py2Names() {}

  /** {module, name} in Python 3 spelling. */
  static String[] map(String module, String name) {
    String[] renamed = NAMES.get(module + "\n" + name);
    if (renamed != null) {
      return renamed;
    }
    String newModule = MODULES.get(module);
    return new String[] {newModule != null ? newModule : module, name};
  }
}
