package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.diff.CheckpointDiff;
import io.ckpt4j.diff.DiffOptions;
import io.ckpt4j.diff.DiffReport;
import io.ckpt4j.diff.TensorDiff;
import io.ckpt4j.diff.Tolerance;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j diff A B}: two checkpoints compared leaf by leaf with assert_close's verdicts.
 * Exit 0 equal within tolerance, 1 different, 2 error (a file ckpt4j cannot read).
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
    description = {"Compare two checkpoints (any formats) as torch.testing.assert_close(A, B)"
        + " would, key by key.", "Exit status: 0 equal within tolerance, 1 different, 2 error."})
final class DiffCommand implements Callable<Integer> {
  static final int EXIT_EQUAL = 0;
  static final int EXIT_DIFFERENT = 1;
  static final int EXIT_ERROR = 2;
  /** Rows of the text table unless --all. */
  static final int TABLE_ROWS = 20;

  @Parameters(index = "0", paramLabel = "A", description = "a checkpoint (the actual side)")
  Path a;

  @Parameters(index = "1", paramLabel = "B", description = "a checkpoint (the expected side)")
  Path b;

  @Option(names = "--atol", paramLabel = "X", description = "absolute tolerance (with --rtol;"
      + " default: assert_close's per dtype)")
  Double atol;

  @Option(names = "--rtol", paramLabel = "X", description = "relative tolerance (with --atol)")
  Double rtol;

  @Option(names = "--equal-nan", description = "NaN at the same place in both counts as equal")
  boolean equalNan;

  @Option(names = "--exact", description = "equal only when every tensor's bytes are"
      + " (for format conversions)")
  boolean exact;

  @Option(names = "--strip-prefix-a", paramLabel = "P", description = "remove P from A's keys")
  String stripPrefixA;

  @Option(names = "--strip-prefix-b", paramLabel = "P", description = "remove P from B's keys")
  String stripPrefixB;

  @Option(names = "--fix-module-prefix", description = "remove nn.DataParallel's 'module.' from"
      + " both sides' keys")
  boolean fixModulePrefix;

  @Option(names = "--json", description = "print one JSON document")
  boolean json;

  @Option(names = "--all", description = "list every tensor, not only the first "
      + TABLE_ROWS)
  boolean all;

  @Mixin GlobalsOptions globals;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if ((atol == null) != (rtol == null)) {
      err.println("ckpt4j: error: give --atol and --rtol together, as assert_close takes them");
      err.flush();
      return EXIT_ERROR;
    }
    DiffOptions options = DiffOptions.defaults().equalNan(equalNan).exact(exact)
        .load(globals.mappedOnCpu())
        .stripPrefixA(fixModulePrefix && stripPrefixA == null ? "module." : stripPrefixA)
        .stripPrefixB(fixModulePrefix && stripPrefixB == null ? "module." : stripPrefixB);
    if (atol != null) options = options.tolerance(new Tolerance(rtol, atol));
    DiffReport report;
    try {
      report = CheckpointDiff.compare(a, b, options);
    } catch (CheckpointException e) {
      err.println("ckpt4j: error: " + e.getMessage());
      err.flush();
      return EXIT_ERROR;
    }
    if (json) {
      out.println(InspectJson.toJson(document(report)));
    } else {
      printText(report, out);
    }
    out.flush();
    return report.equal() ? EXIT_EQUAL : EXIT_DIFFERENT;
  }

  private void printText(DiffReport r, PrintWriter out) {
    out.printf("%s vs %s: %s — %d tensors (%d equal, %d close, %d different, %d dtype or shape"
        + " changed), %d only in A, %d only in B, %d values differ%n", r.a(), r.b(),
        r.equal() ? "equal" : "different", r.tensors().size(),
        r.count(TensorDiff.Status.EQUAL), r.count(TensorDiff.Status.CLOSE),
        r.count(TensorDiff.Status.DIFFERENT),
        r.count(TensorDiff.Status.DTYPE_CHANGED) + r.count(TensorDiff.Status.SHAPE_CHANGED),
        r.onlyInA().size(), r.onlyInB().size(), r.values().size());
    List<TensorDiff> rows = r.largestFirst();
    if (!all) rows = rows.stream().filter(t -> t.status() != TensorDiff.Status.EQUAL)
        .limit(TABLE_ROWS).toList();
    if (!rows.isEmpty()) {
      out.printf("  %-40s %-13s %-10s %12s %12s %12s %s%n", "key", "status", "dtype",
          "max abs", "max rel", "rms", "mismatched");
      for (TensorDiff t : rows) {
        String dtype = t.dtypeA() == t.dtypeB() ? t.dtypeA().pythonName()
            : t.dtypeA().pythonName() + "->" + t.dtypeB().pythonName();
        String tail = t.status() == TensorDiff.Status.SHAPE_CHANGED
            ? Arrays.toString(t.shapeA()) + " -> " + Arrays.toString(t.shapeB())
            : t.mismatched() + " of " + t.numel();
        out.printf(Locale.ROOT, "  %-40s %-13s %-10s %12.4g %12.4g %12.4g %s%n", t.key(),
            t.status().jsonName(), dtype, t.maxAbs(), t.maxRel(), t.rms(), tail);
      }
    }
    for (String k : r.onlyInA()) out.printf("  only in A: %s%n", k);
    for (String k : r.onlyInB()) out.printf("  only in B: %s%n", k);
    for (String k : r.aliases()) out.printf("  tied (another name of a tensor both hold): %s%n", k);
    for (DiffReport.ValueDiff v : r.values()) {
      out.printf("  value differs: %s: %s vs %s%n", v.key(), v.a(), v.b());
    }
  }

  private static ObjectNode document(DiffReport r) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode doc = nodes.objectNode();
    doc.put("a", r.a().toString());
    doc.put("b", r.b().toString());
    doc.put("equal", r.equal());
    ArrayNode tensors = doc.putArray("tensors");
    for (TensorDiff t : r.tensors()) {
      ObjectNode n = tensors.addObject();
      n.put("key", t.key());
      n.put("status", t.status().jsonName());
      n.put("dtype_a", t.dtypeA().pythonName());
      n.put("dtype_b", t.dtypeB().pythonName());
      ArrayNode sa = n.putArray("shape_a");
      for (long d : t.shapeA()) sa.add(d);
      ArrayNode sb = n.putArray("shape_b");
      for (long d : t.shapeB()) sb.add(d);
      n.put("numel", t.numel());
      n.put("mismatched", t.mismatched());
      n.set("max_abs", InspectJson.floatNode(t.maxAbs()));
      n.set("max_rel", InspectJson.floatNode(t.maxRel()));
      n.set("rms", InspectJson.floatNode(t.rms()));
      n.put("rtol", t.tolerance().rtol());
      n.put("atol", t.tolerance().atol());
    }
    r.onlyInA().forEach(doc.putArray("only_in_a")::add);
    r.onlyInB().forEach(doc.putArray("only_in_b")::add);
    r.aliases().forEach(doc.putArray("aliases")::add);
    ArrayNode values = doc.putArray("values_differ");
    for (DiffReport.ValueDiff v : r.values()) {
      values.addObject().put("key", v.key()).put("a", v.a()).put("b", v.b());
    }
    return doc;
  }
}
