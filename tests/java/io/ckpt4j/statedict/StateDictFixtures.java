package io.ckpt4j.statedict;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The files tests/python/make_statedicts.py writes into {@code <ckpt4j.testdata>/statedicts},
 * and its manifest.json of what Python's nn.Module did with them.
 */
final class StateDictFixtures {
  static final String DIR = "statedicts";

  private StateDictFixtures() {}

  static Path dir() {
    return TestData.dir(DIR);
  }

  static JsonNode manifest() {
    return TestData.manifest(DIR);
  }

  /** torch.load(file, map_location="cpu"), weights only. */
  static LoadedCheckpoint load(String file) throws CheckpointException {
    return CheckpointLoader.load(dir().resolve(file), LoadOptions.defaults().mapLocation("cpu"));
  }

  /** torch.load(file, map_location="cpu", weights_only=False), with nothing run. */
  static LoadedCheckpoint loadInert(String file) throws CheckpointException {
    return CheckpointLoader.load(dir().resolve(file),
        LoadOptions.defaults().mapLocation("cpu").inertObjects(true));
  }

  /** The state_dict saved in {@code file}. */
  static StateDict stateDict(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = load(file)) {
      return StateDict.from(ckpt);
    }
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** {@code [[prefix, version], ...]} as Python's _metadata gives it. */
  static List<List<Object>> metadataPairs(Object metadata) {
    List<List<Object>> out = new ArrayList<>();
    if (metadata instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.add(List.of(e.getKey(), ((Map<?, ?>) e.getValue()).get("version")));
      }
    }
    return out;
  }

  static List<List<Object>> metadataPairs(JsonNode pairs) {
    List<List<Object>> out = new ArrayList<>();
    pairs.forEach(p -> out.add(List.of(p.get(0).asText(), p.get(1).asLong())));
    return out;
  }

  /** torch's dtype name ("float32") of {@code t}. */
  static String dtypeName(Tensor t) {
    for (DType d : DType.values()) {
      // JavaCPP's ScalarType constants are not unique objects: compare their values.
      if (ScalarTypes.of(d).value == t.scalar_type().value) return d.pythonName();
    }
    throw new AssertionError("no DType for " + t.scalar_type());
  }

  static long[] shape(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int d = 0; d < shape.length; d++) shape[d] = t.size(d);
    return shape;
  }

  /** Same dtype, shape and element bytes. */
  static void assertBitwiseEqual(Tensor expected, Tensor actual, String key) {
    assertEquals(expected.scalar_type().value, actual.scalar_type().value, key + ": dtype");
    assertArrayEquals(shape(expected), shape(actual), key + ": shape");
    assertEquals(TensorBytes.sha256(expected), TensorBytes.sha256(actual), key + ": elements");
  }

  /** Same keys in the same order, every tensor bitwise equal. */
  static void assertStateDictsEqual(StateDict expected, StateDict actual, String what) {
    assertEquals(List.copyOf(expected.keys()), List.copyOf(actual.keys()), what + ": keys");
    for (String key : expected.keys()) {
      assertBitwiseEqual(expected.get(key), actual.get(key), what + " " + key);
    }
  }
}
