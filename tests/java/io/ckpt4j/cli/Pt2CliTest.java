package io.ckpt4j.cli;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import io.ckpt4j.checkpoint.PythonCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI on torch.export {@code .pt2} archives (tests/python/make_pt2.py): {@code inspect} and
 * {@code inspect --json} say what the archive is — archive version, programs, each graph
 * signature, user inputs with their dynamic dimensions — with the values Python's manifest
 * recorded; {@code convert} writes the state_dict that Python then loads with
 * {@code torch.load(weights_only=True)} and finds equal to {@code ep.state_dict}, bit-exact;
 * {@code run} on a .pt2 is refused with one line.
 */
class Pt2CliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path file(String name) {
    return TestData.dir("pt2").resolve(name);
  }

  private static JsonNode archive(String file) {
    for (JsonNode a : TestData.manifest("pt2").get("archives")) {
      if (a.get("file").asText().equals(file)) return a;
    }
    throw new AssertionError("no " + file + " in the manifest");
  }

  @Test
  void inspectJsonHasTheEntriesAndTheSignaturePythonRecorded() throws Exception {
    for (String name : List.of("program.pt2", "dynamic.pt2", "multi.pt2")) {
      JsonNode python = archive(name);
      CliRun run = CliRun.of("inspect", "--json", file(name).toString());
      assertEquals(0, run.exit(), run.stderr());
      assertEquals(List.of(), run.errorLines());
      JsonNode doc = JSON.readTree(run.stdout());
      JsonNode model = python.get("models").get("model");
      assertEquals("pt2", doc.get("format").asText());
      assertJsonEquals(model.get("expected").get("entries"), doc.get("entries"), name);
      assertJsonEquals(model.get("constants").get("entries"), doc.get("constants"), name);
      JsonNode archive = doc.get("archive");
      assertEquals(python.get("archive_version").asText(),
          archive.get("archive_version").asText());
      assertEquals("model", archive.get("read").asText());
      List<String> programs = new ArrayList<>();
      archive.get("programs").fieldNames().forEachRemaining(programs::add);
      List<String> expectedPrograms = new ArrayList<>();
      python.get("models").fieldNames().forEachRemaining(expectedPrograms::add);
      assertEquals(expectedPrograms.stream().sorted().toList(), programs);
      for (Map.Entry<String, JsonNode> m : python.get("models").properties()) {
        signatureAsPython(m.getValue(), archive.get("programs").get(m.getKey()),
            name + " " + m.getKey());
      }
    }
  }

  private static void signatureAsPython(JsonNode python, JsonNode java, String what) {
    assertEquals(python.get("schema_version").asText(), java.get("schema_version").asText());
    assertEquals(python.get("torch_version").asText(), java.get("torch_version").asText());
    assertJsonEquals(python.get("signature").get("inputs"), rows(java.get("inputs"), true),
        what + " inputs");
    assertJsonEquals(python.get("signature").get("outputs"), rows(java.get("outputs"), false),
        what + " outputs");
    assertJsonEquals(python.get("user_inputs"), java.get("user_inputs"), what + " user inputs");
    assertJsonEquals(python.get("range_constraints"), java.get("range_constraints"),
        what + " ranges");
  }

  /** Java's spec objects as the manifest's rows: [kind, name, target(, persistent)]. */
  private static ArrayNode rows(JsonNode specs, boolean persistent) {
    ArrayNode out = JSON.createArrayNode();
    for (JsonNode s : specs) {
      ArrayNode row = out.addArray();
      row.add(s.get("kind")).add(s.get("name")).add(s.get("target"));
      if (persistent) row.add(s.get("persistent"));
    }
    return out;
  }

  @Test
  void inspectSaysWhatTheArchiveHolds() {
    JsonNode python = archive("dynamic.pt2").get("models").get("model");
    CliRun run = CliRun.of("inspect", file("dynamic.pt2").toString());
    assertEquals(0, run.exit(), run.stderr());
    String out = run.stdout();
    assertTrue(out.contains("torch.export program archive, archive_version 0"), out);
    assertTrue(out.contains("export schema " + python.get("schema_version").asText()), out);
    assertTrue(out.contains("torch " + python.get("torch_version").asText()), out);
    for (JsonNode input : python.get("signature").get("inputs")) {
      String shown = input.get(2).isNull() ? input.get(1).asText() : input.get(2).asText();
      assertTrue(out.contains(shown), input + " in: " + out);
    }
    for (Map.Entry<String, JsonNode> u : python.get("user_inputs").properties()) {
      List<String> sizes = new ArrayList<>();
      for (JsonNode size : u.getValue().get("sizes")) sizes.add(size.asText());
      assertTrue(out.contains(u.getKey() + ": " + u.getValue().get("dtype").asText() + sizes),
          u + " in: " + out);
    }
    for (Map.Entry<String, JsonNode> r : python.get("range_constraints").properties()) {
      assertTrue(out.contains(r.getKey() + " in [" + r.getValue().get(0) + ", "
          + r.getValue().get(1) + "]"), out);
    }
    for (JsonNode e : python.get("expected").get("entries")) {
      assertTrue(out.contains(e.get("path").get(0).asText()), e + " in: " + out);
    }
    CliRun program = CliRun.of("inspect", file("program.pt2").toString());
    assertTrue(program.stdout().contains("scratch (non-persistent)"), program.stdout());
  }

  /** No program named "model": refused, and the hint (--model NAME) reads it. */
  @Test
  void modelPicksTheProgramOfAnArchiveWithoutModel() throws Exception {
    String named = file("named.pt2").toString();
    CliRun refused = CliRun.of("inspect", "--json", named);
    assertNotEquals(0, refused.exit());
    assertEquals(1, refused.errorLines().size(), refused.stderr());
    assertTrue(refused.stderr().contains("--model NAME"), refused.stderr());
    CliRun run = CliRun.of("inspect", "--json", "--model", "encoder", named);
    assertEquals(0, run.exit(), run.stderr());
    JsonNode doc = JSON.readTree(run.stdout());
    assertEquals("encoder", doc.get("archive").get("read").asText());
    assertJsonEquals(archive("named.pt2").get("models").get("encoder").get("expected")
        .get("entries"), doc.get("entries"), "named.pt2 --model encoder");
  }

  @Test
  void inspectNamesAnAotInductorPackage() throws Exception {
    JsonNode aoti = TestData.manifest("pt2").get("aoti");
    if (aoti.has("skipped")) {
      System.err.println("Pt2CliTest: no AOTInductor package: " + aoti.get("skipped"));
      return;
    }
    CliRun run = CliRun.of("inspect", "--json", file(aoti.get("file").asText()).toString());
    assertEquals(0, run.exit(), run.stderr());
    JsonNode doc = JSON.readTree(run.stdout());
    assertEquals("aotinductor", doc.get("format").asText());
    assertEquals(0, doc.get("entries").size());
    assertJsonEquals(aoti.get("models"), doc.get("archive").get("aotinductor_models"), "models");
    CliRun text = CliRun.of("inspect", file(aoti.get("file").asText()).toString());
    assertTrue(text.stdout().contains("AOTInductor package"), text.stdout());
  }

  @Test
  void runRefusesAProgramArchiveWithOneLine() {
    // (An AOTInductor package runs: io.ckpt4j.cli.AotiCliTest.)
    String name = "program.pt2";
    CliRun run = CliRun.of("run", file(name).toString(), "--input", file(name).toString(),
        "--output", file(name) + ".out.pt");
    assertNotEquals(0, run.exit());
    assertEquals(1, run.errorLines().size(), run.stderr());
    String line = run.errorLines().get(0);
    assertTrue(line.contains("running exported programs is not supported yet"), line);
  }

  /**
   * convert writes each program's state_dict (the hint run's refusal gives); Python loads each
   * weights-only and compares with ep.state_dict. An AOTInductor package is refused.
   */
  @Test
  void convertWritesTheStateDictPythonLoadsWeightsOnly(@TempDir Path out) throws Exception {
    ArrayNode converted = JSON.createArrayNode();
    for (JsonNode archive : TestData.manifest("pt2").get("archives")) {
      String name = archive.get("file").asText();
      for (String model : iterable(archive.get("models").fieldNames())) {
        String target = name.replace(".pt2", "") + "." + model + ".pt";
        CliRun run = CliRun.of("convert", "--model", model, file(name).toString(),
            out.resolve(target).toString());
        assertEquals(0, run.exit(), run.stderr());
        ObjectNode item = converted.addObject();
        item.put("archive", name).put("model", model).put("file", target);
      }
    }
    CliRun plain = CliRun.of("convert", file("program.pt2").toString(),
        out.resolve("program.default.pt").toString());
    assertEquals(0, plain.exit(), plain.stderr());
    converted.addObject().put("archive", "program.pt2").put("model", "model")
        .put("file", "program.default.pt");
    ObjectNode todo = JSON.createObjectNode();
    todo.set("converted", converted);
    JSON.writeValue(out.resolve("java.json").toFile(), todo);
    JsonNode report = PythonCheck.run("make_pt2.py", out, TestData.dir("pt2").toString(),
        out.toString());
    assertEquals(0, report.get("failed").size(), report.toString());
    assertEquals(converted.size(), report.get("passed").asInt(), report.toString());
    if (Files.exists(file("aoti.pt2"))) {
      CliRun aoti = CliRun.of("convert", file("aoti.pt2").toString(),
          out.resolve("aoti.pt").toString());
      assertNotEquals(0, aoti.exit());
      assertTrue(aoti.stderr().contains("AOTInductor package"), aoti.stderr());
    }
  }

  private static <T> Iterable<T> iterable(java.util.Iterator<T> it) {
    List<T> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
