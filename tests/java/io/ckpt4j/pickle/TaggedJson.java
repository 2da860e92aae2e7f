package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tagged JSON rendering of Python values that tests/python/pickle_cases.py documents: compares
 * an unpickled Java value with Python's rendering, and renders Java values for the Python check.
 */
final class TaggedJson {
  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** What the test persistent loader returns: the pid, kept. */
  record PersistentRef(Object pid) {}

  /** A value the writer's test hook writes as a real Python object. */
  record PythonObject(String module, String name, Map<Object, Object> state) {}

  private TaggedJson() {}

  // ---- comparing

  /** Asserts that {@code actual} is what Python rendered as {@code expected}. */
  static void assertMatches(JsonNode expected, Object actual) {
    new Comparison().match(expected, actual, "$");
  }

  private static final class Comparison {
    private final Map<Integer, Object> ids = new HashMap<>();

    void match(JsonNode e, Object a, String path) {
      String tag = e.get("t").asText();
      switch (tag) {
        case "none" -> assertNull(a, path);
        case "bool" -> assertEquals(e.get("v").asBoolean(), a, path);
        case "int" -> {
          BigInteger v = new BigInteger(e.get("v").asText());
          if (v.bitLength() < Long.SIZE) {
            assertEquals(v.longValue(), assertInstanceOf(Long.class, a, path), path);
          } else {
            assertEquals(v, assertInstanceOf(BigInteger.class, a, path), path);
          }
        }
        case "float" ->
            assertEquals(e.get("v").asText(), floatBits(assertInstanceOf(Double.class, a, path)), path);
        case "str" -> assertEquals(e.get("v").asText(),
            utf16Hex(assertInstanceOf(String.class, a, path)), path);
        case "bytes" -> assertEquals(e.get("v").asText(),
            hex(assertInstanceOf(PyBytes.class, a, path).toArray()), path);
        case "tuple" -> matchList(e.get("v"), assertInstanceOf(PyTuple.class, a, path), path);
        case "list" -> {
          assertEquals(ArrayList.class, a == null ? null : a.getClass(), path);
          define(e, a);
          matchList(e.get("v"), (List<?>) a, path);
        }
        case "dict" -> {
          assertEquals(LinkedHashMap.class, a == null ? null : a.getClass(), path);
          define(e, a);
          matchMap(e.get("v"), (Map<?, ?>) a, path);
        }
        case "odict" -> {
          PyOrderedDict d = assertInstanceOf(PyOrderedDict.class, a, path);
          define(e, a);
          matchMap(e.get("v"), d, path);
          matchMap(e.get("attrs"), d.attributes(), path + ".attrs");
        }
        case "set" -> matchSet(e.get("v"), assertInstanceOf(LinkedHashSet.class, a, path), path);
        case "object" -> matchObject(e, a, path);
        case "global" -> assertEquals(e.get("v").asText(),
            assertInstanceOf(PyGlobalRef.class, a, path).qualifiedName(), path);
        case "persid" ->
            match(e.get("v"), assertInstanceOf(PersistentRef.class, a, path).pid(), path + ".pid");
        case "ref" -> {
          Object target = ids.get(e.get("id").asInt());
          assertTrue(target != null, path + ": ref to an id not seen yet");
          assertSame(target, a, path + ": must be the same object as id " + e.get("id"));
        }
        default -> fail(path + ": unknown tag " + tag);
      }
    }

    private void define(JsonNode e, Object a) {
      ids.put(e.get("id").asInt(), a);
    }

    private void matchList(JsonNode e, List<?> a, String path) {
      assertEquals(e.size(), a.size(), path + " size");
      for (int i = 0; i < e.size(); i++) {
        match(e.get(i), a.get(i), path + "[" + i + "]");
      }
    }

    private void matchMap(JsonNode e, Map<?, ?> a, String path) {
      assertEquals(e.size(), a.size(), path + " size");
      Iterator<? extends Map.Entry<?, ?>> it = a.entrySet().iterator();
      for (int i = 0; i < e.size(); i++) {
        Map.Entry<?, ?> entry = it.next();
        match(e.get(i).get(0), entry.getKey(), path + ".key" + i);
        match(e.get(i).get(1), entry.getValue(), path + "[" + entry.getKey() + "]");
      }
    }

    private void matchSet(JsonNode e, Set<?> a, String path) {
      assertEquals(e.size(), a.size(), path + " size");
      List<Object> left = new ArrayList<>(a);
      for (JsonNode item : e) {
        boolean found = false;
        for (Iterator<Object> it = left.iterator(); it.hasNext() && !found; ) {
          Object candidate = it.next();
          try {
            new Comparison().match(item, candidate, path);
            it.remove();
            found = true;
          } catch (AssertionError notThisOne) {
            // try the next element
          }
        }
        assertTrue(found, path + ": no element matches " + item);
      }
    }

    private void matchObject(JsonNode e, Object a, String path) {
      define(e, a);
      if (a instanceof PythonObject) {
        PythonObject o = (PythonObject) a;
        assertEquals(e.get("class").asText(), o.module() + "." + o.name(), path);
        match(e.get("state"), o.state(), path + ".state");
        return;
      }
      PyObject o = assertInstanceOf(PyObject.class, a, path);
      assertEquals(e.get("class").asText(), o.className(), path + ".class");
      match(e.get("args"), o.args(), path + ".args");
      matchMap(e.get("kwargs"), o.kwargs(), path + ".kwargs");
      match(e.get("state"), o.state(), path + ".state");
      matchList(e.get("list"), o.listItems(), path + ".list");
      matchMap(e.get("dict"), o.dictItems(), path + ".dict");
    }
  }

  // ---- rendering

  /** Renders a Java value as Python's render() would render the value it unpickles. */
  static JsonNode render(Object value) {
    return new Rendering().render(value);
  }

  private static final class Rendering {
    private final Map<Object, Integer> ids = new IdentityHashMap<>();

    JsonNode render(Object v) {
      ObjectNode n = NODES.objectNode();
      if (v == null) {
        return n.put("t", "none");
      } else if (v instanceof Boolean) {
        return n.put("t", "bool").put("v", (Boolean) v);
      } else if (v instanceof Long || v instanceof Integer || v instanceof BigInteger) {
        return n.put("t", "int").put("v", v.toString());
      } else if (v instanceof Double) {
        return n.put("t", "float").put("v", floatBits((Double) v));
      } else if (v instanceof String) {
        return n.put("t", "str").put("v", utf16Hex((String) v));
      } else if (v instanceof PyBytes) {
        return n.put("t", "bytes").put("v", hex(((PyBytes) v).toArray()));
      } else if (v instanceof PyTuple) {
        n.put("t", "tuple").set("v", renderAll((List<?>) v));
        return n;
      } else if (v instanceof Set) {
        n.put("t", "set").set("v", renderAll((Set<?>) v));
        return n;
      } else if (v instanceof PersistentRef) {
        n.put("t", "persid").set("v", render(((PersistentRef) v).pid()));
        return n;
      } else if (v instanceof PyGlobalRef) {
        return n.put("t", "global").put("v", ((PyGlobalRef) v).qualifiedName());
      }
      Integer seen = ids.get(v);
      if (seen != null) {
        return n.put("t", "ref").put("id", seen);
      }
      int id = ids.size() + 1;
      ids.put(v, id);
      if (v instanceof List) {
        n.put("t", "list").put("id", id).set("v", renderAll((List<?>) v));
      } else if (v instanceof PyOrderedDict) {
        n.put("t", "odict").put("id", id).set("v", renderPairs((Map<?, ?>) v));
        n.set("attrs", renderPairs(((PyOrderedDict) v).attributes()));
      } else if (v instanceof Map) {
        n.put("t", "dict").put("id", id).set("v", renderPairs((Map<?, ?>) v));
      } else if (v instanceof PythonObject) {
        PythonObject o = (PythonObject) v;
        n.put("t", "object").put("id", id).put("class", o.module() + "." + o.name());
        n.set("state", render(o.state()));
      } else {
        throw new IllegalArgumentException("no rendering for " + v.getClass());
      }
      return n;
    }

    private ArrayNode renderAll(Iterable<?> items) {
      ArrayNode a = NODES.arrayNode();
      for (Object item : items) {
        a.add(render(item));
      }
      return a;
    }

    private ArrayNode renderPairs(Map<?, ?> map) {
      ArrayNode a = NODES.arrayNode();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        ArrayNode pair = NODES.arrayNode();
        pair.add(render(e.getKey()));
        pair.add(render(e.getValue()));
        a.add(pair);
      }
      return a;
    }
  }

  /** IEEE-754 bits as 16 hex digits, as Python's struct.pack('>d', v).hex(). */
  static String floatBits(double v) {
    return String.format("%016x", Double.doubleToRawLongBits(v));
  }

  static String utf16Hex(String s) {
    StringBuilder sb = new StringBuilder(s.length() * 4);
    for (int i = 0; i < s.length(); i++) {
      sb.append(String.format("%04x", (int) s.charAt(i)));
    }
    return sb.toString();
  }

  static String hex(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) {
      sb.append(String.format("%02x", b & 0xff));
    }
    return sb.toString();
  }
}
