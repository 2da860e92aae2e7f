package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.pickle.PickleWriter;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TorchValues;
import java.math.BigInteger;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * A walk over a tree before anything is written: every value must be one a checkpoint holds
 * (else a one-line error naming where it is), and each tensor leaf's path is kept for the
 * messages of later checks ({@code ['model']['fc.weight']}).
 */
final class TreePaths {
  /** How the root is named in messages. */
  static final String ROOT = "(the root)";

  private final Map<Object, String> leaves = new IdentityHashMap<>();
  private final Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
  private final boolean haveSource;

  private TreePaths(boolean haveSource) {
    this.haveSource = haveSource;
  }

  /**
   * Checks {@code root}; {@code haveSource} says whether {@link TensorRef} and {@link StorageRef}
   * leaves can be materialized (a loaded checkpoint was given).
   */
  static TreePaths walk(Object root, boolean haveSource) throws CheckpointException {
    TreePaths paths = new TreePaths(haveSource);
    paths.visit(root, "", 0);
    return paths;
  }

  /** Where {@code leaf} first occurs, for messages. */
  String of(Object leaf) {
    String path = leaves.get(leaf);
    return path == null ? "(a value inside another)" : path.isEmpty() ? ROOT : path;
  }

  private void visit(Object value, String path, int depth) throws CheckpointException {
    if (isScalar(value)) return;
    if (value instanceof Tensor || value instanceof Parameter) {
      leaves.putIfAbsent(value, path);
      return;
    }
    if (value instanceof TensorRef || value instanceof StorageRef) {
      if (!haveSource) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            "cannot save the " + PythonTypes.name(value) + " at "
            + show(path) + ": it belongs to a loaded checkpoint; pass that LoadedCheckpoint"
            + " (TorchSaver.save(path, tree, checkpoint, options)) so its bytes can be read");
      }
      leaves.putIfAbsent(value, path);
      return;
    }
    if (depth >= PickleWriter.MAX_DEPTH) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "cannot save the value at " + show(path) + ": containers"
          + " nest more than " + PickleWriter.MAX_DEPTH + " deep");
    }
    if (!visited.add(value)) return; // shared or recursive: the pickle memoizes it
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String at = path + "[" + key(e.getKey()) + "]";
        visit(e.getKey(), at, depth + 1);
        visit(e.getValue(), at, depth + 1);
      }
      if (value instanceof PyOrderedDict dict) {
        for (Map.Entry<String, Object> e : dict.attributes().entrySet()) {
          visit(e.getValue(), path + "." + e.getKey(), depth + 1);
        }
      }
    } else if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) visit(list.get(i), path + "[" + i + "]", depth + 1);
    } else if (value instanceof Set<?> set) {
      for (Object item : set) visit(item, path + "{" + key(item) + "}", depth + 1);
    } else if (value instanceof PyObject object) {
      if (!object.kwargs().isEmpty() || !object.listItems().isEmpty()
          || !object.dictItems().isEmpty()) {
        throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
            "cannot save the " + object.className() + " object at "
            + show(path) + ": it was built with keyword arguments or list/dict items, which a"
            + " protocol 2 pickle of an inert object cannot write");
      }
      visit(object.args(), path + ".__reduce__", depth + 1);
      visit(object.state(), path + ".__dict__", depth + 1);
    } else {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot save the value at " + show(path) + ": a "
          + value.getClass().getName() + " is not a checkpoint value (dicts, lists, PyTuples,"
          + " sets, ints, floats, bools, strs, PyBytes, None, tensors, Parameters, TensorRefs,"
          + " torch devices and dtypes)");
    }
  }

  private static boolean isScalar(Object v) {
    return v == null || v instanceof Boolean || v instanceof Long || v instanceof Integer
        || v instanceof Short || v instanceof Byte || v instanceof BigInteger
        || v instanceof Double || v instanceof Float || v instanceof String
        || v instanceof PyBytes || v instanceof PyGlobalRef || v instanceof DType
        || v instanceof TorchValues.TorchDevice || v instanceof TorchValues.PyComplex
        || v instanceof TorchValues.StorageType || v instanceof TorchValues.TensorClass
        || v instanceof TorchValues.UnsupportedDType;
  }

  /** A dict key as Python's repr shows it in an index: {@code 'fc.weight'}, {@code 3}. */
  private static String key(Object k) {
    if (k instanceof String s) return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    if (k instanceof Long || k instanceof Integer || k instanceof BigInteger) return k.toString();
    return PythonTypes.name(k);
  }

  private static String show(String path) {
    return path.isEmpty() ? ROOT : path;
  }
}
