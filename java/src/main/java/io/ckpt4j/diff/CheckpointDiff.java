package io.ckpt4j.diff;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TreeWalker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code ckpt4j diff}: compares two checkpoints of any formats and layouts ckpt4j reads, leaf by
 * leaf — a state dict key by key, a training checkpoint entry by entry (model, optimizer state,
 * scheduler, epoch) — with {@code torch.testing.assert_close}'s verdict per tensor.
 *
 * <pre>{@code
 * DiffReport r = CheckpointDiff.compare(Path.of("model.bin"), Path.of("model.safetensors"),
 *     DiffOptions.defaults().exact(true));   // a format conversion must be bit-exact
 * if (!r.equal()) System.out.println(r.largestFirst().get(0));
 * }</pre>
 *
 * <p>Both files are opened mapped on the CPU, and tensor pairs are compared a slice at a time, so
 * memory stays bounded whatever the files' sizes. Leaves are matched by their path (see {@link
 * TreeWalker#pathName}) after the prefix options. A key one side lacks is not reported missing
 * when that side holds the same tensor (same storage, offset, shape and strides) under another
 * key both share: tied weights, which {@code torch.save} keeps under every name and safetensors
 * under one.
 */
public final class CheckpointDiff {
  private CheckpointDiff() {}

  public static DiffReport compare(Path a, Path b, DiffOptions options)
      throws CheckpointException {
    Objects.requireNonNull(options, "options");
    var load = options.load().mmap(true).mapLocation("cpu");
    try (LoadedCheckpoint ca = CheckpointLoader.load(a, load);
        LoadedCheckpoint cb = CheckpointLoader.load(b, load);
        TensorComparison.Workspace workspace = new TensorComparison.Workspace()) {
      Map<String, Object> leavesA = leaves(ca.root(), options.stripPrefixA());
      Map<String, Object> leavesB = leaves(cb.root(), options.stripPrefixB());
      List<TensorDiff> tensors = new ArrayList<>();
      List<DiffReport.ValueDiff> values = new ArrayList<>();
      for (Map.Entry<String, Object> e : leavesA.entrySet()) {
        String key = e.getKey();
        if (!leavesB.containsKey(key)) continue;
        Object va = e.getValue();
        Object vb = leavesB.get(key);
        if (va instanceof TensorRef ta && vb instanceof TensorRef tb) {
          tensors.add(TensorComparison.compare(key, ta, ca.tensor(ta), tb, cb.tensor(tb),
              options, workspace));
        } else if (!sameValue(va, vb)) {
          values.add(new DiffReport.ValueDiff(key, describe(va), describe(vb)));
        }
      }
      List<String> onlyInA = new ArrayList<>();
      List<String> onlyInB = new ArrayList<>();
      List<String> aliases = new ArrayList<>();
      missing(leavesA, leavesB, onlyInA, aliases);
      missing(leavesB, leavesA, onlyInB, aliases);
      return new DiffReport(a, b, tensors, onlyInA, onlyInB, aliases, values);
    }
  }

  /** The tree's leaves by path name, with {@code prefix} taken off each key starting with it. */
  private static Map<String, Object> leaves(Object root, String prefix)
      throws CheckpointException {
    Map<String, Object> out = new LinkedHashMap<>();
    TreeWalker.walk(root, (path, value) -> {
      List<Object> keys = path;
      if (prefix != null && !prefix.isEmpty()) {
        keys = new ArrayList<>(path.size());
        for (Object k : path) {
          keys.add(k instanceof String s && s.startsWith(prefix) ? s.substring(prefix.length())
              : k);
        }
      }
      out.put(TreeWalker.pathName(keys), value);
    });
    return out;
  }

  /** Keys of {@code side} the other lacks: missing, or an alias of a tensor both hold. */
  private static void missing(Map<String, Object> side, Map<String, Object> other,
      List<String> missing, List<String> aliases) {
    for (Map.Entry<String, Object> e : side.entrySet()) {
      if (other.containsKey(e.getKey())) continue;
      boolean alias = e.getValue() instanceof TensorRef t && side.entrySet().stream().anyMatch(
          s -> other.containsKey(s.getKey()) && s.getValue() instanceof TensorRef u
              && sameView(t, u));
      (alias ? aliases : missing).add(e.getKey());
    }
  }

  /**
   * Two leaves over the same bytes: one storage, offset, dtype, shape and strides (torch.save
   * pickles a tensor saved under two names once, so they may be the very same object).
   */
  private static boolean sameView(TensorRef t, TensorRef u) {
    StorageRef rt = t.storage().root();
    StorageRef ru = u.storage().root();
    return rt == ru && t.rootStorageOffset() == u.rootStorageOffset() && t.dtype() == u.dtype()
        && Arrays.equals(t.shape(), u.shape()) && Arrays.equals(t.stride(), u.stride());
  }

  private static boolean sameValue(Object a, Object b) {
    if (a instanceof TensorRef || b instanceof TensorRef) return false;
    if (a instanceof Double x && b instanceof Double y) {
      return x.equals(y) || (x.isNaN() && y.isNaN());
    }
    return Objects.equals(a, b) || describe(a).equals(describe(b));
  }

  private static String describe(Object value) {
    if (value instanceof TensorRef t) {
      return "tensor " + t.dtype().pythonName() + " " + Arrays.toString(t.shape());
    }
    return PythonTypes.name(value) + " " + PythonTypes.printable(String.valueOf(value));
  }
}
