package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.layout.pt2.AotiPackage;
import io.ckpt4j.layout.pt2.ProgramSummary;
import io.ckpt4j.layout.pt2.ProgramSummary.Spec;
import io.ckpt4j.layout.pt2.Pt2Archive;
import io.ckpt4j.layout.pt2.TensorMeta;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code inspect} says about a PT2 archive beyond its tensors: the archive version, the
 * programs it holds and each one's graph signature (parameters, buffers, constants, user inputs
 * with dtype and sizes — symbols for dynamic dimensions, with their ranges — and outputs), and
 * its AOTInductor models ({@link InspectAoti}). Read from the archive's records; nothing is run.
 */
final class InspectPt2 {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private InspectPt2() {}

  /** The human form: a few lines per program, before the tensor listing. */
  static void print(Path file, PrintWriter out) throws CheckpointException {
    try (Pt2Archive archive = Pt2Archive.open(file)) {
      out.printf("%s  (pt2: %s, archive_version %s)%n", file, what(archive),
          archive.archiveVersion());
      for (String model : archive.programs()) {
        ProgramSummary p = archive.program(model);
        out.printf("program '%s': export schema %s, torch %s%n", model, p.schemaVersion(),
            p.torchVersion());
        printSpecs(p.inputs(), p, out);
        printSpecs(p.outputs(), p, out);
        for (Map.Entry<String, Long[]> r : p.rangeConstraints().entrySet()) {
          out.printf("  %s in [%s, %s]%n", r.getKey(), r.getValue()[0],
              r.getValue()[1] == null ? "inf" : r.getValue()[1]);
        }
      }
      for (String model : archive.aotiModels()) {
        InspectAoti.print(AotiPackage.read(archive, model), out);
      }
    }
  }

  /** The {@code "archive"} object of {@code inspect --json}. */
  static ObjectNode json(Path file, String readModel) throws CheckpointException {
    try (Pt2Archive archive = Pt2Archive.open(file)) {
      ObjectNode node = NODES.objectNode();
      node.put("archive_version", archive.archiveVersion());
      node.put("content", archive.content().name().toLowerCase(Locale.ROOT));
      if (readModel != null) node.put("read", readModel);
      ObjectNode programs = node.putObject("programs");
      for (String model : archive.programs()) {
        ProgramSummary p = archive.program(model);
        ObjectNode m = programs.putObject(model);
        m.put("schema_version", p.schemaVersion());
        m.put("torch_version", p.torchVersion());
        specs(m.putArray("inputs"), p.inputs());
        specs(m.putArray("outputs"), p.outputs());
        ObjectNode users = m.putObject("user_inputs");
        for (Map.Entry<String, TensorMeta> u : p.userInputs().entrySet()) {
          ObjectNode in = users.putObject(u.getKey());
          in.put("dtype", u.getValue().dtypeName().orElse("code " + u.getValue().dtypeCode()));
          ArrayNode sizes = in.putArray("sizes");
          for (Object s : u.getValue().sizes()) {
            if (s instanceof Long n) sizes.add(n);
            else sizes.add(String.valueOf(s));
          }
        }
        ObjectNode ranges = m.putObject("range_constraints");
        for (Map.Entry<String, Long[]> r : p.rangeConstraints().entrySet()) {
          ArrayNode range = ranges.putArray(r.getKey());
          for (Long bound : r.getValue()) {
            if (bound == null) range.addNull();
            else range.add(bound);
          }
        }
      }
      ArrayNode aoti = node.putArray("aotinductor_models");
      ObjectNode packages = node.putObject("aotinductor");
      for (String model : archive.aotiModels()) {
        aoti.add(model);
        packages.set(model, InspectAoti.json(AotiPackage.read(archive, model)));
      }
      return node;
    }
  }

  /** The program a load reads: {@code --model}, else torch.export.load's. */
  static String readModel(Path file, String named) throws CheckpointException {
    if (named != null) return named;
    try (Pt2Archive archive = Pt2Archive.open(file)) {
      return archive.defaultProgram();
    }
  }

  private static void specs(ArrayNode array, List<Spec> specs) {
    for (Spec s : specs) {
      ObjectNode n = array.addObject();
      n.put("kind", s.kind());
      n.put("name", s.name());
      n.put("target", s.target());
      if (s.persistent() == null) n.putNull("persistent");
      else n.put("persistent", s.persistent());
    }
  }

  private static String what(Pt2Archive archive) {
    return switch (archive.content()) {
      case PROGRAMS -> "torch.export program archive"
          + (archive.aotiModels().isEmpty() ? "" : " with AOTInductor models");
      case AOTINDUCTOR -> "AOTInductor package";
      case NOTHING -> "PT2 archive without programs";
    };
  }

  /**
   * One line per kind of spec, in the signature's order: {@code parameter: lin.weight, ...},
   * {@code buffer: steps, scratch (non-persistent)}, {@code user input: x: float32[s0, 3]}.
   * Parameters, buffers and constants go by their state_dict / constants names; user inputs and
   * outputs by their graph names.
   */
  private static void printSpecs(List<Spec> specs, ProgramSummary p, PrintWriter out) {
    Map<String, List<String>> byKind = new LinkedHashMap<>();
    for (Spec s : specs) {
      StringBuilder b = new StringBuilder(s.target() != null ? s.target() : s.name());
      if (Boolean.FALSE.equals(s.persistent())) b.append(" (non-persistent)");
      TensorMeta meta = p.userInputs().get(s.name());
      if (meta != null && s.kind().equals("USER_INPUT")) {
        b.append(": ").append(meta.dtypeName().orElse("?")).append(meta.sizes());
      }
      String kind = s.kind().toLowerCase(Locale.ROOT).replace('_', ' ');
      byKind.computeIfAbsent(kind, k -> new ArrayList<>()).add(b.toString());
    }
    for (Map.Entry<String, List<String>> e : byKind.entrySet()) {
      out.printf("  %-16s %s%n", e.getKey() + ":", String.join(", ", e.getValue()));
    }
  }
}
