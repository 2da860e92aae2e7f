package example.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What a JVM service does with ckpt4j, built against the installed artifact alone: load the
 * weights Python saved (tests/python/make_resnet.py), run a ResNet forward, save, and have real
 * torch 2.13 read the saved file (tests/python/check_saved.py).
 */
class ServiceTest {
  /** The smallest ResNet case make_resnet.py writes: resnet152's depth, narrowed. */
  private static final String CASE = "resnet152_w16";
  /** ResNetTest's bar: logits within 1e-4 of Python's. */
  private static final double LOGITS_TOLERANCE = 1e-4;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RESNET = Path.of(System.getProperty("ckpt4j.resnet"));
  private static final Path OUT = Path.of(System.getProperty("ckpt4j.out"));

  @Test
  void theDependencyIsTheLibraryJarWithItsNativeLibraryAndNoCli() throws Exception {
    Path jar = jarOf(CheckpointLoader.class);
    assertTrue(jar.toString().endsWith(".jar") && jar.toString().contains("/io/ckpt4j/ckpt4j/"),
        "ckpt4j must come from a repository's jar, not a source tree: " + jar);
    try (JarFile file = new JarFile(jar.toFile())) {
      assertEquals("io.ckpt4j",
          file.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
    }
    ClassLoader loader = ServiceTest.class.getClassLoader();
    assertNotNull(loader.getResource("io/ckpt4j/nativeio/linux-x86_64/libjnickpt4j.so"),
        "the native library, where JavaCPP's Loader looks");
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.ckpt4j.cli.Main"));
    assertThrows(ClassNotFoundException.class, () -> Class.forName("picocli.CommandLine"));
    assertNull(loader.getResource("io/ckpt4j/demo/README.md"), "the demo checkpoints");
  }

  @Test
  void pythonWeightsRunAndWhatJavaSavesLoadsInPythonBitForBit() throws Exception {
    JsonNode c = indexCase();
    Path weights = RESNET.resolve(c.get("weights").asText());
    Path saved = OUT.resolve(CASE + ".pt");
    Files.createDirectories(OUT);
    LoadOptions cpu = LoadOptions.defaults().mapLocation("cpu");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(weights, cpu);
        StateDict sd = StateDict.from(ckpt);
        ResNet model = ResNet.create(c.get("arch").asText(), c.get("num_classes").asLong(),
            c.get("width").asLong());
        LoadedCheckpoint io = CheckpointLoader.load(RESNET.resolve(c.get("io").asText()), cpu)) {
      sd.loadInto(model.module());
      model.eval();
      Tensor input = tensor(io, "input");
      Tensor pythonLogits = tensor(io, "logits");
      double diff;
      try (NoGradGuard noGrad = new NoGradGuard(); PointerScope scope = new PointerScope()) {
        diff = model.forward(input).sub(pythonLogits).abs().max().item_double();
      }
      assertTrue(diff <= LOGITS_TOLERANCE, "logits differ from Python's by " + diff);
      try (StateDict mine = StateDict.of(model.module())) {
        // Python's _metadata also has rows for the modules without state (ReLU, pooling).
        mine.setMetadata(sd.metadata());
        TorchSaver.save(saved, mine.toPython());
      }
    }
    assertEquals("ok", pythonVerdict(weights, saved));
  }

  private static JsonNode indexCase() throws IOException {
    for (JsonNode c : JSON.readTree(RESNET.resolve("index.json").toFile()).get("cases")) {
      if (c.get("name").asText().equals(CASE)) return c;
    }
    throw new IllegalStateException("make_resnet.py wrote no case " + CASE + " in " + RESNET);
  }

  private static Tensor tensor(LoadedCheckpoint file, String name) throws CheckpointException {
    return file.tensor((TensorRef) ((Map<?, ?>) file.root()).get(name));
  }

  /** check_saved.py's verdict on {@code saved}: "ok" when torch.load gives the original's tree. */
  private static String pythonVerdict(Path original, Path saved)
      throws IOException, InterruptedException {
    Path manifest = OUT.resolve("manifest.json");
    Map<String, Object> roundtrip = Map.of("id", CASE, "kind", "roundtrip",
        "original", original.toString(), "saved", saved.toString());
    JSON.writeValue(manifest.toFile(), Map.of("cases", List.of(roundtrip)));
    Process p = new ProcessBuilder(System.getProperty("ckpt4j.python"),
        Path.of(System.getProperty("ckpt4j.pythonTests"), "check_saved.py").toString(),
        manifest.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), "check_saved.py failed: " + out);
    return JSON.readTree(out).get("results").get(CASE).asText();
  }

  private static Path jarOf(Class<?> c) throws URISyntaxException {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
