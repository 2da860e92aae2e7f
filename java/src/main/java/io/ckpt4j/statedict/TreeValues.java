package io.ckpt4j.statedict;

import io.ckpt4j.pickle.PyGlobalRef;
import io.ckpt4j.pickle.PyObject;
import io.ckpt4j.pickle.PyOrderedDict;
import io.ckpt4j.pickle.PyTuple;
import io.ckpt4j.tensor.TensorRef;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Names of loaded values for error messages, in Python's words. */
final class TreeValues {
  /** Longest text from a file quoted in a message. */
  static final int MAX_QUOTED = 80;

  private TreeValues() {}

  /** Python's name for the type of {@code value}: "int", "dict", "tensor", "object of class X". */
  static String describe(Object value) {
    if (value == null) return "None";
    if (value instanceof TensorRef) return "tensor";
    if (value instanceof Boolean) return "bool";
    if (value instanceof Number) return value instanceof Double ? "float" : "int";
    if (value instanceof String) return "str";
    if (value instanceof PyTuple) return "tuple";
    if (value instanceof PyOrderedDict) return "OrderedDict";
    if (value instanceof List) return "list";
    if (value instanceof Map) return "dict";
    if (value instanceof Set) return "set";
    if (value instanceof PyObject o) return "object of class " + quoted(o.className());
    if (value instanceof PyGlobalRef g) return "global " + quoted(g.qualifiedName());
    return value.getClass().getSimpleName();
  }

  /** {@code text} safe for a one-line message: control characters escaped, long text cut. */
  static String quoted(String text) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < text.length() && sb.length() < MAX_QUOTED; i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (sb.length() >= MAX_QUOTED) sb.append("...");
    return sb.toString();
  }
}
