package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Compares two JSON trees exactly, numbers by value (Python's json and Jackson may spell the same
 * double differently), and fails with the JSON path of the first difference.
 */
public final class JsonAssert {
  private JsonAssert() {}

  public static void assertJsonEquals(JsonNode expected, JsonNode actual, String what) {
    String diff = diff(expected, actual, "$");
    if (diff != null) fail(what + ": " + diff);
  }

  private static String diff(JsonNode e, JsonNode a, String at) {
    if (e.isNumber() && a.isNumber()) {
      if (e.isIntegralNumber() && a.isIntegralNumber()) {
        return e.bigIntegerValue().equals(a.bigIntegerValue()) ? null
            : at + ": expected " + e + ", got " + a;
      }
      return Double.compare(e.doubleValue(), a.doubleValue()) == 0 ? null
          : at + ": expected " + e + ", got " + a;
    }
    if (e.getNodeType() != a.getNodeType()) return at + ": expected " + e + ", got " + a;
    if (e.isArray()) {
      if (e.size() != a.size()) {
        return at + ": expected " + e.size() + " items, got " + a.size() + " (expected " + clip(e)
            + ", got " + clip(a) + ")";
      }
      for (int i = 0; i < e.size(); i++) {
        String d = diff(e.get(i), a.get(i), at + "[" + i + "]");
        if (d != null) return d;
      }
      return null;
    }
    if (e.isObject()) {
      if (!e.isEmpty() && e.size() != a.size()) {
        return at + ": expected fields " + names(e) + ", got " + names(a);
      }
      Iterator<Map.Entry<String, JsonNode>> it = e.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> f = it.next();
        JsonNode other = a.get(f.getKey());
        if (other == null) return at + ": missing field " + f.getKey() + " in " + clip(a);
        String d = diff(f.getValue(), other, at + "." + f.getKey());
        if (d != null) return d;
      }
      return null;
    }
    return e.equals(a) ? null : at + ": expected " + e + ", got " + a;
  }

  private static String names(JsonNode n) {
    StringBuilder sb = new StringBuilder("[");
    n.fieldNames().forEachRemaining(s -> sb.append(s).append(' '));
    return sb.append(']').toString();
  }

  private static String clip(JsonNode n) {
    String s = n.toString();
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
