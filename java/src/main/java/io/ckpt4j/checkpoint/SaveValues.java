package io.ckpt4j.checkpoint;

import io.ckpt4j.pickle.PyOrderedDict;
import io.ckpt4j.pickle.PyTuple;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Values of this package made into what {@link io.ckpt4j.save.TorchSaver} writes.
 *
 * <p>{@link PyCounter} (MultiStepLR's {@code milestones}) is written as a plain dict of the same
 * counts: the saver has no way yet to write a {@code collections.Counter} ({@code GLOBAL
 * collections Counter}, the dict, {@code REDUCE}). Python's MultiStepLR steps the same with a
 * dict; only its deprecated {@code step(epoch)} (the closed form, {@code milestones.elements()})
 * needs the Counter.
 */
final class SaveValues {
  private SaveValues() {}

  /** {@code value} with every {@link PyCounter} in it replaced; unchanged trees are shared. */
  static Object prepare(Object value) {
    return new Preparer().prepare(value);
  }

  private static final class Preparer {
    private final Map<Object, Object> done = new IdentityHashMap<>();

    Object prepare(Object value) {
      if (!containsCounter(value, new IdentityHashMap<>())) return value;
      Object known = done.get(value);
      if (known != null) return known;
      Object out;
      if (value instanceof PyCounter c) {
        out = new LinkedHashMap<Object, Object>(c.counts());
      } else if (value instanceof PyOrderedDict od) {
        PyOrderedDict copy = new PyOrderedDict();
        for (Map.Entry<Object, Object> e : od.entrySet()) {
          copy.put(e.getKey(), prepare(e.getValue()));
        }
        for (Map.Entry<String, Object> a : od.attributes().entrySet()) {
          copy.setAttribute(a.getKey(), prepare(a.getValue()));
        }
        out = copy;
      } else if (value instanceof Map<?, ?> m) {
        LinkedHashMap<Object, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) copy.put(e.getKey(), prepare(e.getValue()));
        out = copy;
      } else if (value instanceof PyTuple t) {
        Object[] items = new Object[t.size()];
        for (int i = 0; i < items.length; i++) items[i] = prepare(t.get(i));
        out = PyTuple.of(items);
      } else {
        List<Object> copy = new ArrayList<>();
        for (Object v : (List<?>) value) copy.add(prepare(v));
        out = copy;
      }
      done.put(value, out);
      return out;
    }

    private static boolean containsCounter(Object value, Map<Object, Boolean> seen) {
      if (value instanceof PyCounter) return true;
      if (value instanceof Map<?, ?> || value instanceof List<?>) {
        if (seen.put(value, Boolean.TRUE) != null) return false;
        Iterable<?> items = value instanceof Map<?, ?> m ? m.values() : (List<?>) value;
        for (Object v : items) if (containsCounter(v, seen)) return true;
        if (value instanceof PyOrderedDict od) {
          for (Object v : od.attributes().values()) if (containsCounter(v, seen)) return true;
        }
      }
      return false;
    }
  }
}
