package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TensorRef;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * Java → Java: a tree ckpt4j saved, read back by ckpt4j's own reader, is the tree that was saved —
 * containers and keys, scalars bit for bit, tensors with their geometry, flags, saved location and
 * element bytes, and the same sharing of objects and storages.
 */
final class ReadBack {
  private final LoadedCheckpoint back;
  private final String location;
  private final Map<Object, List<String>> builtObjects = new LinkedHashMap<>();
  private final Map<Object, List<String>> builtStorages = new LinkedHashMap<>();
  private final Map<Object, List<String>> backObjects = new IdentityHashMap<>();
  private final Map<Object, List<String>> backStorages = new IdentityHashMap<>();

  private ReadBack(LoadedCheckpoint back, String location) {
    this.back = back;
    this.location = location;
  }

  static void assertSame(Object built, LoadedCheckpoint back, String location) throws Exception {
    ReadBack r = new ReadBack(back, location);
    r.compare(built, back.root(), "");
    assertEquals(groups(r.builtObjects), groups(r.backObjects), "paths holding one object");
    assertEquals(groups(r.builtStorages), groups(r.backStorages), "paths sharing one storage");
  }

  private void compare(Object built, Object got, String path) throws Exception {
    if (built instanceof Tensor || built instanceof Parameter) {
      TensorRef ref = assertInstanceOf(TensorRef.class, got, path);
      Tensor t = built instanceof Parameter p ? p.data() : (Tensor) built;
      boolean requiresGrad = built instanceof Parameter p ? p.requiresGrad() : t.requires_grad();
      assertEquals(ScalarTypes.dtype(t.scalar_type().intern()).orElseThrow(), ref.dtype(), path);
      try (LongArrayRef sizes = t.sizes(); LongArrayRef strides = t.strides()) {
        assertArrayEquals(longs(sizes), ref.shape(), path + " shape");
        assertArrayEquals(longs(strides), ref.stride(), path + " stride");
      }
      assertEquals(t.storage_offset(), ref.rootStorageOffset(), path + " offset");
      assertEquals(requiresGrad, ref.requiresGrad(), path + " requires_grad");
      assertEquals(built instanceof Parameter, ref.isParameter(), path + " Parameter");
      assertEquals(t.is_conj(), ref.isConj(), path + " conj");
      assertEquals(t.is_neg(), ref.isNeg(), path + " neg");
      assertEquals(location, ref.savedLocation(), path + " location");
      assertEquals(TensorBytes.sha256(t), TensorBytes.sha256(back.tensor(ref)), path + " bytes");
      Object id = built instanceof Parameter ? built : t.unsafeGetTensorImpl().address();
      builtObjects.computeIfAbsent(id, k -> new ArrayList<>()).add(path);
      backObjects.computeIfAbsent(ref, k -> new ArrayList<>()).add(path);
      try (Storage s = t.storage()) {
        if (s.nbytes() > 0) {
          builtStorages.computeIfAbsent(s.unsafeGetStorageImpl().address(),
              k -> new ArrayList<>()).add(path);
          backStorages.computeIfAbsent(ref.storage().root(), k -> new ArrayList<>()).add(path);
        }
      }
    } else if (built instanceof Map<?, ?> m) {
      Map<?, ?> g = assertInstanceOf(Map.class, got, path);
      assertEquals(built instanceof PyOrderedDict, got instanceof PyOrderedDict, path + " OrderedDict");
      assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(g.keySet()), path + " keys");
      for (Map.Entry<?, ?> e : m.entrySet()) {
        compare(e.getValue(), g.get(e.getKey()), path + "[" + e.getKey() + "]");
      }
      if (built instanceof PyOrderedDict d) {
        compare(new LinkedHashMap<>(d.attributes()),
            new LinkedHashMap<>(((PyOrderedDict) got).attributes()), path + ".__dict__");
      }
    } else if (built instanceof List<?> l) {
      List<?> g = assertInstanceOf(List.class, got, path);
      assertEquals(built instanceof PyTuple, got instanceof PyTuple, path + " tuple");
      assertEquals(l.size(), g.size(), path + " length");
      for (int i = 0; i < l.size(); i++) compare(l.get(i), g.get(i), path + "[" + i + "]");
    } else if (built instanceof Double d) {
      assertEquals(Double.doubleToRawLongBits(d),
          Double.doubleToRawLongBits(assertInstanceOf(Double.class, got, path)), path);
    } else if (built instanceof Set<?>) {
      assertEquals(built, got, path);
    } else {
      assertEquals(built, got, path);
    }
  }

  private static long[] longs(LongArrayRef ref) {
    long[] out = new long[(int) ref.size()];
    for (int i = 0; i < out.length; i++) out[i] = ref.get(i);
    return out;
  }

  private static Set<String> groups(Map<Object, List<String>> byId) {
    Set<String> out = new TreeSet<>();
    for (List<String> paths : byId.values()) {
      if (paths.size() > 1) out.add(String.join(" = ", new TreeSet<>(paths)));
    }
    assertTrue(out.size() <= byId.size());
    return out;
  }
}
