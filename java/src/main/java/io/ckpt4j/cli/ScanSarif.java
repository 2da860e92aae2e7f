package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.scan.FileReport;
import io.ckpt4j.scan.Finding;
import io.ckpt4j.scan.FindingKind;
import io.ckpt4j.scan.ScanReport;
import io.ckpt4j.scan.Verdict;

/** A scan report as SARIF 2.1.0: one run, one rule per finding kind, one result per finding. */
final class ScanSarif {
  static final String SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
  static final String VERSION = "2.1.0";

  private ScanSarif() {}

  static ObjectNode document(ScanReport report) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode doc = nodes.objectNode();
    doc.put("$schema", SCHEMA);
    doc.put("version", VERSION);
    ObjectNode run = doc.putArray("runs").addObject();
    ObjectNode driver = run.putObject("tool").putObject("driver");
    driver.put("name", "ckpt4j scan");
    driver.put("informationUri", "https://github.com/ckpt4j/ckpt4j");
    ArrayNode rules = driver.putArray("rules");
    for (FindingKind kind : FindingKind.values()) {
      ObjectNode rule = rules.addObject();
      rule.put("id", kind.name());
      rule.putObject("shortDescription").put("text", kind.description());
      rule.putObject("defaultConfiguration").put("level", level(kind.verdict()));
    }
    ArrayNode results = run.putArray("results");
    for (FileReport f : report.files()) {
      for (Finding x : f.findings()) {
        ObjectNode r = results.addObject();
        r.put("ruleId", x.kind().name());
        r.put("ruleIndex", x.kind().ordinal());
        r.put("level", level(x.kind().verdict()));
        r.putObject("message").put("text", x.detail() + " (" + x.where() + "); "
            + x.torch().words());
        r.putArray("locations").addObject().putObject("physicalLocation")
            .putObject("artifactLocation").put("uri", f.path().toUri().toString());
        r.putObject("properties").put("verdict", f.verdict().word());
      }
    }
    return doc;
  }

  /** SARIF's level: unsafe is an error, incomplete a warning, review a note. */
  private static String level(Verdict verdict) {
    return switch (verdict) {
      case UNSAFE -> "error";
      case INCOMPLETE -> "warning";
      case REVIEW, SAFE -> "note";
    };
  }
}
