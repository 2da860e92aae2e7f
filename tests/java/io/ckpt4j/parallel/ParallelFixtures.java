package io.ckpt4j.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

/** What tests/python/make_parallel.py wrote into {@code <ckpt4j.testdata>/parallel}. */
final class ParallelFixtures {
  static final String NAME = "parallel";
  private static JsonNode manifest;
  private static final Map<String, Map<String, Tensor>> FILES = new LinkedHashMap<>();

  private ParallelFixtures() {}

  static Path dir() {
    return TestData.dir(NAME);
  }

  static synchronized JsonNode manifest() throws IOException {
    if (manifest == null) {
      manifest = new ObjectMapper().readTree(dir().resolve("manifest.json").toFile());
    }
    return manifest;
  }

  static double atol() throws IOException {
    return manifest().get("atol").asDouble();
  }

  static List<String> strings(String key) throws IOException {
    List<String> out = new ArrayList<>();
    manifest().get(key).forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The tensors of one safetensors file, by name (kept for the whole test run). */
  static synchronized Map<String, Tensor> tensors(String file) throws CheckpointException {
    Map<String, Tensor> cached = FILES.get(file);
    if (cached != null) return cached;
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (LoadedCheckpoint ckpt =
        CheckpointLoader.load(dir().resolve(file), LoadOptions.defaults())) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) ckpt.root()).entrySet()) {
        // Kept for the whole run: retained, so that a PointerScope open around the first use
        // does not free them.
        out.put((String) e.getKey(),
            new Tensor(ckpt.tensor((TensorRef) e.getValue())).retainReference());
      }
    }
    FILES.put(file, Collections.unmodifiableMap(out));
    return FILES.get(file);
  }

  static Tensor io(String name) throws CheckpointException {
    return require(tensors("io.safetensors"), name);
  }

  static Tensor chunk(String name) throws CheckpointException {
    return require(tensors("chunks.safetensors"), name);
  }

  private static Tensor require(Map<String, Tensor> tensors, String name) {
    Tensor t = tensors.get(name);
    if (t == null) throw new AssertionError("no tensor " + name + " in the fixtures");
    return t;
  }

  /** SmallNet with Python's weights and running statistics, in eval mode. */
  static SmallNet model() throws CheckpointException {
    SmallNet net = new SmallNet();
    Map<String, Tensor> weights = tensors("weights.safetensors");
    try (NoGradGuard noGrad = new NoGradGuard()) {
      copyInto(net.module().named_parameters(true), weights);
      copyInto(net.module().named_buffers(true), weights);
    }
    net.module().eval();
    return net;
  }

  private static void copyInto(StringTensorDict dict, Map<String, Tensor> weights) {
    try (dict) {
      for (long i = 0; i < dict.size(); i++) {
        String name = dict.get(i).key().getString();
        dict.get(name).copy_(require(weights, name));
      }
    }
  }

  /** {@code x[:n]} (a view). */
  static Tensor rows(Tensor x, long n) {
    return x.narrow(0, 0, n);
  }

  /** Asserts equal shapes and values within {@code atol}. */
  static void assertClose(Tensor expected, Tensor actual, double atol, String what) {
    assertArrayEquals(ModuleState.shape(expected), ModuleState.shape(actual), what + ": shape");
    if (expected.numel() == 0) return;
    try (PointerScope scope = new PointerScope()) {
      double diff = expected.to(actual.scalar_type()).sub(actual.cpu()).abs().max().item_double();
      assertTrue(diff <= atol, what + ": max abs diff " + diff + " > " + atol);
    }
  }
}
