package io.ckpt4j.cli;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ckpt4j run} and {@code inspect} on tests/python/make_aoti.py's packages. */
class AotiCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double TOLERANCE = 1e-5;

  @TempDir Path tmp;

  @Test
  void runGivesAotiLoadPackagesOutputs() throws Exception {
    JsonNode packages = TestData.manifest("aoti").get("packages");
    for (String name : List.of("cnn", "dynamic")) {
      JsonNode p = packages.get(name);
      Path pkg = dir().resolve(p.get("file").asText());
      String caseFile = p.get("cases").get(0).asText();
      Path in = tmp.resolve(name + "-in.pt");
      Path out = tmp.resolve(name + "-out.pt");
      try (LoadedCheckpoint c = CheckpointLoader.load(dir().resolve(caseFile),
          LoadOptions.defaults())) {
        Map<?, ?> root = PyValues.toMap(c.root(), caseFile);
        List<Tensor> inputs = tensors(c, root.get("inputs"));
        TorchSaver.save(in, inputs.size() == 1 ? inputs.get(0) : PyTuple.wrap(inputs.toArray()));
        CliRun run = CliRun.of("run", pkg.toString(), "--input", in.toString(), "--output",
            out.toString(), "--device", "cpu");
        assertEquals(0, run.exit(), run.stderr());
        List<Tensor> expected = tensors(c, root.get("outputs"));
        try (LoadedCheckpoint got = CheckpointLoader.load(out, LoadOptions.defaults())) {
          List<Tensor> actual = got.root() instanceof TensorRef ref ? List.of(got.tensor(ref))
              : tensors(got, got.root());
          assertEquals(expected.size(), actual.size(), name);
          for (int i = 0; i < expected.size(); i++) {
            assertTrue(torch.allclose(actual.get(i), expected.get(i), 0.0, TOLERANCE, false),
                name + " output " + i);
          }
        }
      }
    }
  }

  @Test
  void runRefusesAWrongInputWithOneLine() throws Exception {
    Path pkg = dir().resolve("cnn.pt2");
    Path in = tmp.resolve("wrong.pt");
    try (Tensor x = torch.randn(2, 3, 8, 8)) {
      TorchSaver.save(in, x);
    }
    CliRun run = CliRun.of("run", pkg.toString(), "--input", in.toString(), "--output",
        tmp.resolve("y.pt").toString());
    assertNotEquals(0, run.exit());
    assertEquals(1, run.errorLines().size(), run.stderr());
    assertTrue(run.errorLines().get(0).contains("size 8 in dimension 2"), run.stderr());
  }

  @Test
  void inspectDescribesThePackage() throws Exception {
    JsonNode p = TestData.manifest("aoti").get("packages").get("dynamic");
    Path pkg = dir().resolve(p.get("file").asText());
    CliRun run = CliRun.of("inspect", "--json", pkg.toString());
    assertEquals(0, run.exit(), run.stderr());
    JsonNode model = JSON.readTree(run.stdout()).get("archive").get("aotinductor").get("model");
    assertJsonEquals(p.get("metadata"), model.get("metadata"), "metadata");
    for (int i = 0; i < p.get("inputs").size(); i++) {
      assertJsonEquals(p.get("inputs").get(i).get("sizes"),
          model.get("inputs").get(i).get("sizes"), "input " + i);
      assertEquals(p.get("inputs").get(i).get("dtype").asText(),
          model.get("inputs").get(i).get("dtype").asText());
    }
    assertEquals(p.get("outputs").asInt(), model.get("outputs").size());
    List<String> fqns = new ArrayList<>();
    model.get("constants").forEach(c -> fqns.add(c.get("fqn").asText()));
    fqns.sort(null);
    List<String> expected = new ArrayList<>();
    p.get("constant_fqns").forEach(c -> expected.add(c.asText()));
    assertEquals(expected, fqns);
    CliRun text = CliRun.of("inspect", pkg.toString());
    assertEquals(0, text.exit(), text.stderr());
    assertTrue(text.stdout().contains("device cpu"), text.stdout());
    assertTrue(text.stdout().contains(p.get("metadata").get("AOTI_CPU_ISA").asText()),
        text.stdout());
    assertTrue(text.stdout().contains("weights swappable: no"), text.stdout());
  }

  private static Path dir() {
    return TestData.dir("aoti");
  }

  private static List<Tensor> tensors(LoadedCheckpoint c, Object list) throws Exception {
    List<Tensor> out = new ArrayList<>();
    for (Object item : PyValues.toList(list, "tensors")) out.add(c.tensor((TensorRef) item));
    return out;
  }
}
