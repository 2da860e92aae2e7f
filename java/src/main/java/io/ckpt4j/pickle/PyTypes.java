package io.ckpt4j.pickle;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Python type names of unpickled values, for error messages. */
final class PyTypes {
  /** Names and literals from a file are cut to this many chars in messages. */
  static final int MAX_QUOTED_CHARS = 200;

  private PyTypes() {}

  /**
   * {@code text} fit for a one-line message: control and non-ASCII chars escaped as Python
   * would ({@code \n}, {@code \x00}, {@code \u00e9}), cut after {@link #MAX_QUOTED_CHARS}.
   */
  static String printable(String text) {
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

  /** Python's name for the type of {@code value}: "int", "str", "list", "object of class X". */
  static String describe(Object value) {
    if (value == null) {
      return "None";
    } else if (value instanceof Boolean) {
      return "bool";
    } else if (value instanceof Long || value instanceof BigInteger) {
      return "int";
    } else if (value instanceof Double) {
      return "float";
    } else if (value instanceof String) {
      return "str";
    } else if (value instanceof PyBytes) {
      return "bytes";
    } else if (value instanceof PyTuple) {
      return "tuple";
    } else if (value instanceof PyOrderedDict) {
      return "OrderedDict";
    } else if (value instanceof List) {
      return "list";
    } else if (value instanceof Map) {
      return "dict";
    } else if (value instanceof Set) {
      return "set";
    } else if (value instanceof PyObject) {
      return "object of class " + printable(((PyObject) value).className());
    } else if (value instanceof PyGlobalRef) {
      return "global " + printable(((PyGlobalRef) value).qualifiedName());
    }
    return "Java " + value.getClass().getName();
  }
}
