package io.ckpt4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * What tests/python/make_resnet.py wrote into {@code <ckpt4j.testdata>/resnet}: per case the
 * state_dict file, its keys, a fixed input with Python's logits, and the torchvision init stats.
 */
public final class ResNetCases {
  /** The bar: logits within 1e-4 of Python's (max abs diff). */
  public static final double LOGITS_TOLERANCE = 1e-4;
  static final String DIR = "resnet";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The std torchvision's initialisation draws a conv weight of {@code numel} values from. */
  record InitStd(double std, long numel) {}

  /** One entry of index.json. */
  public record Case(String name, String arch, long width, long numClasses, Path weights, Path keys,
      Path metadata, Path io, Path dataParallel, Map<String, InitStd> initStd,
      JsonNode dataParallelIncompatible) {
    @Override
    public String toString() {
      return name;
    }

    /** The state_dict keys Python's model has, in order. */
    List<String> pythonKeys() {
      return strings(read(keys));
    }

    /**
     * Python's {@code _metadata} rows "prefix=version", in order, of the modules that hold
     * parameters or buffers (the Java model computes ReLU and pooling as functions).
     */
    List<String> pythonMetadataOfModulesWithState() {
      List<String> out = new ArrayList<>();
      for (JsonNode row : read(metadata)) {
        if (row.get(2).asBoolean()) out.add(row.get(0).asText() + "=" + row.get(1).asLong());
      }
      return out;
    }

    /** Python's missing_keys or unexpected_keys for the DataParallel file in a plain model. */
    List<String> dataParallelIncompatible(String which) {
      return strings(dataParallelIncompatible.get(which));
    }

    public ResNet build() {
      return ResNet.create(arch, numClasses, width);
    }
  }

  private ResNetCases() {}

  static Path dir() {
    return TestData.dir(DIR);
  }

  public static List<Case> all() {
    JsonNode index = read(dir().resolve("index.json"));
    List<Case> out = new ArrayList<>();
    for (JsonNode c : index.get("cases")) {
      Map<String, InitStd> std = new LinkedHashMap<>();
      c.get("init_std").properties().forEach(e -> std.put(e.getKey(),
          new InitStd(e.getValue().get("std").asDouble(), e.getValue().get("numel").asLong())));
      out.add(new Case(c.get("name").asText(), c.get("arch").asText(), c.get("width").asLong(),
          c.get("num_classes").asLong(), dir().resolve(c.get("weights").asText()),
          dir().resolve(c.get("keys").asText()), dir().resolve(c.get("metadata").asText()),
          dir().resolve(c.get("io").asText()),
          c.get("data_parallel").isNull() ? null : dir().resolve(c.get("data_parallel").asText()),
          std, c.get("data_parallel_incompatible")));
    }
    return out;
  }

  public static Case named(String name) {
    return all().stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalStateException("make_resnet.py wrote no case " + name));
  }

  /** The tensors of a case's io file ("input", "logits", ...), open until closed. */
  public static final class Io implements AutoCloseable {
    private final LoadedCheckpoint file;
    private final Map<?, ?> root;

    public Io(Case c) throws CheckpointException {
      file = CheckpointLoader.load(c.io(), LoadOptions.defaults().mapLocation("cpu"));
      root = (Map<?, ?>) file.root();
    }

    public Tensor get(String name) throws CheckpointException {
      Object ref = root.get(name);
      if (!(ref instanceof TensorRef t)) {
        throw new IllegalStateException("no tensor '" + name + "' in " + file.path());
      }
      return file.tensor(t);
    }

    List<String> names() {
      List<String> out = new ArrayList<>();
      for (Object k : root.keySet()) out.add((String) k);
      return out;
    }

    @Override
    public void close() {
      file.close();
    }
  }

  /** Max abs difference of two tensors of one shape (asserted). */
  public static double maxAbsDiff(Tensor actual, Tensor expected) {
    assertArrayEquals(expected.sizes().vec().get(), actual.sizes().vec().get(), "shape");
    try (PointerScope scope = new PointerScope()) {
      return actual.sub(expected).abs().max().item_double();
    }
  }

  /** The model's logits for {@code input}, without autograd. */
  public static Tensor logits(ResNet model, Tensor input) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      return model.forward(input);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode item : array) out.add(item.asText());
    return out;
  }

  private static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
