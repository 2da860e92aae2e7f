package io.ckpt4j.value;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Python's names for the Java values of an object tree, and text from a file made printable, for
 * one-line messages.
 */
public final class PythonTypes {
  /** Names and literals from a file are cut to this many chars in messages. */
  public static final int MAX_QUOTED_CHARS = 200;

  private PythonTypes() {}

  /** Python's name for the type of {@code value}: "int", "str", "list", "object of class X". */
  public static String name(Object value) {
    if (value == null) return "None";
    if (value instanceof Boolean) return "bool";
    if (value instanceof Long || value instanceof BigInteger) return "int";
    if (value instanceof Double) return "float";
    if (value instanceof String) return "str";
    if (value instanceof PyBytes) return "bytes";
    if (value instanceof PyTuple) return "tuple";
    if (value instanceof PyOrderedDict) return "OrderedDict";
    if (value instanceof Map) return "dict";
    if (value instanceof List) return "list";
    if (value instanceof Set) return "set";
    if (value instanceof TensorRef t) return t.isParameter() ? "Parameter" : "Tensor";
    if (value instanceof PyObject o) return "object of class " + printable(o.className());
    if (value instanceof PyGlobalRef g) return "global " + printable(g.qualifiedName());
    Class<?> type = value.getClass();
    // ckpt4j's own values (a torch.device, a dtype) by their short name; any other Java object
    // is named in full, since it has no Python name at all.
    String name = type.getName();
    return name.startsWith("io.ckpt4j.") ? type.getSimpleName() : "Java " + name;
  }

  /**
   * {@code text} fit for a one-line message: control and non-ASCII chars escaped as Python
   * would ({@code \n}, {@code \x00}, {@code \u00e9}), cut after {@link #MAX_QUOTED_CHARS}.
   */
  public static String printable(String text) {
    StringBuilder sb = new StringBuilder(Math.min(text.length(), MAX_QUOTED_CHARS) + 8);
    for (int i = 0; i < text.length(); i++) {
      if (sb.length() >= MAX_QUOTED_CHARS) {
        return sb.append("...(").append(text.length()).append(" chars)").toString();
      }
      char c = text.charAt(i);
      if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else if (c > 0x7e) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
