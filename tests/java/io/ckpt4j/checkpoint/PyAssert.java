package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import io.ckpt4j.value.PyCounter;
import io.ckpt4j.value.PyTuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Compares a value Java made (a state dict) with the one Python saved, as Python's {@code ==}
 * would, and stricter: int and float are told apart (an int where Python has a float, or the
 * reverse, fails), tuples from lists, dict key order counts. A {@link PyCounter} equals the dict
 * the reader gives for a {@code collections.Counter}. Tensors are not compared here.
 */
final class PyAssert {
  private PyAssert() {}

  static void assertPythonEquals(Object expected, Object actual, String path) {
    String diff = diff(expected, actual, path);
    if (diff != null) fail(diff);
  }

  private static String diff(Object e, Object a, String at) {
    if (a instanceof PyCounter c) a = c.counts();
    if (e == null || a == null) return e == a ? null : at + ": expected " + e + ", got " + a;
    if (e instanceof Tensor || a instanceof Tensor) {
      boolean both = e instanceof Tensor && a instanceof Tensor;
      return both ? null : at + ": expected " + e + ", got " + a;
    }
    if (e instanceof Map<?, ?> em) {
      if (!(a instanceof Map<?, ?> am)) return at + ": expected a dict, got " + a;
      List<Object> ek = new ArrayList<>(em.keySet());
      List<Object> ak = new ArrayList<>(am.keySet());
      if (!ek.equals(ak)) return at + ": keys " + ak + ", expected " + ek;
      for (Object k : ek) {
        String d = diff(em.get(k), am.get(k), at + "[" + k + "]");
        if (d != null) return d;
      }
      return null;
    }
    if (e instanceof List<?> el) {
      if (!(a instanceof List<?> al) || (e instanceof PyTuple) != (a instanceof PyTuple)) {
        return at + ": expected " + kind(e) + " " + e + ", got " + kind(a) + " " + a;
      }
      if (el.size() != al.size()) return at + ": expected " + e + ", got " + a;
      for (int i = 0; i < el.size(); i++) {
        String d = diff(el.get(i), al.get(i), at + "[" + i + "]");
        if (d != null) return d;
      }
      return null;
    }
    if (e.getClass() != a.getClass()) {
      return at + ": expected " + kind(e) + " " + e + ", got " + kind(a) + " " + a;
    }
    if (e instanceof Double ed) {
      return Double.compare(ed, (Double) a) == 0 ? null : at + ": expected " + e + ", got " + a;
    }
    return e.equals(a) ? null : at + ": expected " + e + ", got " + a;
  }

  private static String kind(Object v) {
    return io.ckpt4j.value.PythonTypes.name(v);
  }
}
