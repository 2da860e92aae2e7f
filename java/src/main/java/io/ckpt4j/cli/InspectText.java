package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointTree;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TreeWalker;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The human form of {@code inspect}: one line per leaf, then totals and the key prefix. */
final class InspectText {
  /** Prefixes Python leaves on state-dict keys, and what leaves them. */
  private static final Map<String, String> KNOWN_PREFIXES = Map.of(
      "module.", "nn.DataParallel / DistributedDataParallel",
      "_orig_mod.", "torch.compile");

  private InspectText() {}

  static void print(CheckpointTree checkpoint, PrintWriter out) throws CheckpointException {
    out.printf("%s  (%s format)%n", checkpoint.path(), checkpoint.format().jsonName());
    printTree(checkpoint.root(), out);
  }

  /**
   * A .pt2 program's tensors, after {@link InspectPt2#print}'s header: its state_dict, then its
   * constants (which the state_dict leaves out).
   */
  static void printProgram(CheckpointTree checkpoint, String model, PrintWriter out)
      throws CheckpointException {
    out.printf("state_dict of program '%s' (torch.export.load(f).state_dict):%n", model);
    printTree(checkpoint.root(), out);
    out.printf("constants of program '%s' (ep.constants: non-persistent buffers, lifted"
        + " tensor constants):%n", model);
    printTree(checkpoint.constants(), out);
  }

  /** One line per leaf of {@code tree}, then the totals and the key prefixes seen. */
  private static void printTree(Object tree, PrintWriter out) throws CheckpointException {
    long[] totals = new long[2];
    Map<String, Integer> prefixes = new LinkedHashMap<>();
    int[] keyed = new int[1];
    TreeWalker.walk(tree, new TreeWalker.Visitor() {
      @Override
      public void leaf(List<Object> path, Object value) {
        String name = TreeWalker.pathName(path);
        if (value instanceof TensorRef t) {
          totals[0]++;
          totals[1] += t.nbytes();
          out.printf("  %-48s %-10s %-20s %-8s %s%s%n", name, t.dtype().pythonName(),
              Arrays.toString(t.shape()), t.savedLocation(), bytes(t.nbytes()),
              t.isParameter() ? "  Parameter" + (t.requiresGrad() ? "" : " (no grad)") : "");
          if (!path.isEmpty() && path.get(path.size() - 1) instanceof String key) {
            keyed[0]++;
            for (String prefix : KNOWN_PREFIXES.keySet()) {
              if (key.startsWith(prefix)) prefixes.merge(prefix, 1, Integer::sum);
            }
          }
        } else {
          out.printf("  %-48s %s%n", name, describe(value));
        }
      }

      @Override
      public void empty(List<Object> path, String type) {
        out.printf("  %-48s empty %s%n", TreeWalker.pathName(path), type);
      }
    });
    out.printf("%d tensors, %s%n", totals[0], bytes(totals[1]));
    for (Map.Entry<String, Integer> e : prefixes.entrySet()) {
      out.printf("%d of %d tensor keys start with '%s' (saved through %s)%n", e.getValue(),
          keyed[0], e.getKey(), KNOWN_PREFIXES.get(e.getKey()));
    }
  }

  private static String describe(Object value) {
    String type = PythonTypes.name(value);
    String text = String.valueOf(value);
    if (value instanceof String s) text = "'" + s + "'";
    if (text.length() > 60) text = text.substring(0, 57) + "...";
    return type + " " + text;
  }

  static String bytes(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return String.format("%.1f KiB", n / 1024.0);
    if (n < 1024L * 1024 * 1024) return String.format("%.1f MiB", n / (1024.0 * 1024));
    return String.format("%.2f GiB", n / (1024.0 * 1024 * 1024));
  }
}
