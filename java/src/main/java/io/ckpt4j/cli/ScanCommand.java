package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.scan.CallSite;
import io.ckpt4j.scan.CheckpointScanner;
import io.ckpt4j.scan.FileReport;
import io.ckpt4j.scan.Finding;
import io.ckpt4j.scan.GlobalUse;
import io.ckpt4j.scan.ScanReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j scan PATH...}: whether each checkpoint is safe to hand to torch.load, without
 * running it or reading tensor bytes. Exit 0 all safe, 1 any unsafe, 2 any incomplete or error,
 * 3 any to review (1 wins over 2, 2 over 3).
 */
@Command(name = "scan", mixinStandardHelpOptions = true,
    description = {"Scan checkpoints (files, or directories recursively) for code, container"
        + " tricks and size lies, without loading them.",
        "Exit status: 0 all safe, 1 any unsafe, 2 any incomplete or error, 3 any to review."})
final class ScanCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "files or directories")
  List<Path> paths;

  @Option(names = "--json", description = "print one JSON document")
  boolean json;

  @Option(names = "--sarif", description = "print SARIF 2.1.0 (one result per finding)")
  boolean sarif;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    ScanReport report;
    try {
      report = CheckpointScanner.scan(paths.toArray(Path[]::new));
    } catch (CheckpointException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("ckpt4j: error: " + e.getMessage());
      err.flush();
      return ScanReport.EXIT_INCOMPLETE;
    }
    if (sarif) {
      out.println(InspectJson.toJson(ScanSarif.document(report)));
    } else if (json) {
      out.println(InspectJson.toJson(document(report)));
    } else {
      printText(report, out);
    }
    out.flush();
    return report.exitCode();
  }

  private static void printText(ScanReport report, PrintWriter out) {
    for (FileReport f : report.files()) {
      out.printf("%s: %s (%s; %s)%n", f.path(), f.verdict().word().toUpperCase(Locale.ROOT),
          f.format(), f.loader());
      for (Finding x : f.findings()) {
        out.printf("  %s %s: %s [%s]%n", x.kind().verdict().word(), x.kind(), x.detail(),
            x.torch().words());
      }
      for (GlobalUse g : f.globals()) {
        if (g.verdict() != GlobalUse.GlobalVerdict.ALLOWED) {
          out.printf("  global %s: %s%n", g.name(), g.verdict().words());
        }
      }
    }
    out.printf("%d file(s): %s%n", report.files().size(), report.verdict().word());
  }

  private static ObjectNode document(ScanReport report) {
    ObjectNode doc = JsonNodeFactory.instance.objectNode();
    doc.put("verdict", report.verdict().word());
    doc.put("exit_code", report.exitCode());
    ArrayNode files = doc.putArray("files");
    for (FileReport f : report.files()) {
      ObjectNode n = files.addObject();
      n.put("path", f.path().toString());
      n.put("verdict", f.verdict().word());
      n.put("format", f.format());
      n.put("loader", f.loader());
      ArrayNode findings = n.putArray("findings");
      for (Finding x : f.findings()) {
        findings.addObject().put("kind", x.kind().name()).put("verdict", x.kind().verdict().word())
            .put("where", x.where()).put("detail", x.detail())
            .put("description", x.kind().description()).put("torch", x.torch().words());
      }
      ArrayNode globals = n.putArray("globals");
      for (GlobalUse g : f.globals()) {
        globals.addObject().put("name", g.name()).put("verdict", g.verdict().words())
            .put("where", g.where());
      }
      ArrayNode calls = n.putArray("calls");
      for (CallSite c : f.calls()) {
        calls.addObject().put("opcode", c.opcode()).put("target", c.target())
            .put("where", c.where()).put("offset", c.offset()).put("count", c.count());
      }
    }
    return doc;
  }
}
