package io.ckpt4j.aoti;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** tests/python/make_aoti.py's packages and cases (target/testdata/aoti). */
final class AotiFixtures {
  /** How far Java's outputs may be from aoti_load_package's (the bound). */
  static final double TOLERANCE = 1e-5;

  private AotiFixtures() {}

  static JsonNode manifest() {
    return TestData.manifest("aoti");
  }

  static Path file(String name) {
    return TestData.dir("aoti").resolve(name);
  }

  /** The package {@code name} ("cnn", "dynamic") of the manifest. */
  static Path pkg(String name) {
    return file(manifest().get("packages").get(name).get("file").asText());
  }

  /** A case file's inputs and Python's outputs, owned by the caller. */
  record Case(List<Tensor> inputs, List<Tensor> outputs) implements AutoCloseable {
    @Override
    public void close() {
      inputs.forEach(Tensor::close);
      outputs.forEach(Tensor::close);
    }
  }

  static Case read(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file(file), LoadOptions.defaults())) {
      Map<?, ?> root = PyValues.toMap(ckpt.root(), file);
      return new Case(tensors(ckpt, root.get("inputs"), file),
          tensors(ckpt, root.get("outputs"), file));
    }
  }

  private static List<Tensor> tensors(LoadedCheckpoint ckpt, Object list, String where)
      throws CheckpointException {
    List<Tensor> out = new ArrayList<>();
    for (Object item : PyValues.toList(list, where)) {
      out.add(new Tensor(ckpt.tensor((TensorRef) item)));
    }
    return out;
  }

  /** Each output has Python's shape and lies within {@link #TOLERANCE} of it. */
  static void assertClose(List<Tensor> expected, List<Tensor> actual, String what) {
    assertTrue(expected.size() == actual.size(), what + ": " + actual.size() + " outputs, Python "
        + expected.size());
    for (int i = 0; i < expected.size(); i++) {
      Tensor e = expected.get(i);
      Tensor a = actual.get(i);
      assertArrayEquals(e.sizes().vec().get(), a.sizes().vec().get(), what + " output " + i);
      try (Tensor diff = torch.sub(a, e).abs().max()) {
        double gap = diff.item_double();
        assertTrue(gap <= TOLERANCE, what + " output " + i + " is " + gap + " from Python's");
      }
    }
  }

  static void closeAll(List<Tensor> tensors) {
    tensors.forEach(Tensor::close);
  }
}
