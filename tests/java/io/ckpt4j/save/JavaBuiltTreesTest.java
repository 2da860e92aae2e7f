package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PyOrderedDict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java → Python: trees built in Java from LibTorch tensors ({@link Trees}) are saved, and torch
 * 2.13 (tests/python/check_saved.py) loads each file — weights_only, and mmap=True — and compares
 * it with the {@link Sidecar} the test wrote from the same tensors: tree, dtypes, shapes, strides,
 * offsets, requires_grad, Parameters, conj/neg bits, storage bytes, locations, and which paths
 * share one object or one storage. Each file is also read back by ckpt4j ({@link ReadBack}).
 */
class JavaBuiltTreesTest {
  @TempDir Path out;

  private record Case(String id, Path file, Object tree, SaveOptions options, String location) {}

  @TestFactory
  @SuppressWarnings("try") // the scope frees every tensor made inside it
  Stream<DynamicTest> javaTreesLoadInPython() throws Exception {
    Map<String, Throwable> javaFailures = new LinkedHashMap<>();
    Map<String, String> verdicts;
    List<String> ids = new ArrayList<>();
    try (PointerScope scope = new PointerScope()) {
      Trees trees = new Trees(20260101L);
      SaveOptions plain = SaveOptions.defaults().fsync(false);
      List<Case> cases = new ArrayList<>();
      cases.add(new Case("every_dtype", out.resolve("every_dtype.pt"), trees.everyDtype(), plain, "cpu"));
      cases.add(new Case("views", out.resolve("views.pt"), trees.views(), plain, "cpu"));
      cases.add(new Case("ties", out.resolve("ties.pt"), trees.ties(), plain, "cpu"));
      cases.add(new Case("grads_and_lazy_bits", out.resolve("grads.pt"), trees.gradsAndLazyBits(),
          plain, "cpu"));
      cases.add(new Case("training_checkpoint", out.resolve("training.ckpt"),
          trees.trainingCheckpoint(), SaveOptions.defaults(), "cpu"));
      cases.add(new Case("chunked", out.resolve("chunked.bin"), trees.chunked(), plain, "cpu"));
      cases.add(new Case("untyped_views", out.resolve("untyped.pt"), trees.untypedViews(), plain,
          "cpu"));
      cases.add(new Case("empties", out.resolve("empties.pth"), trees.empties(), plain, "cpu"));
      cases.add(new Case("bare_tensor", out.resolve("bare.pt"), trees.random(io.ckpt4j.value.DType.FLOAT16, 2, 5),
          plain, "cpu"));
      cases.add(new Case("relocated_to_cuda1", out.resolve("relocated.pt"), trees.views(),
          plain.mapLocation("cuda:1"), "cuda:1"));
      cases.add(new Case("host_copies", out.resolve("host_copies.pt"), trees.ties(),
          plain.hostCopiesForTesting(true), "cpu"));
      Path names = Files.createDirectories(out.resolve("names"));
      for (String name : List.of("model.v2.pt", "noext", "x.tar.gz", "m\u00f6del.pt", ".hidden")) {
        PyOrderedDict small = new PyOrderedDict();
        small.put("x", trees.random(io.ckpt4j.value.DType.INT8, 3));
        cases.add(new Case("name " + name, names.resolve(name), small, plain, "cpu"));
      }

      PythonCheck python = new PythonCheck();
      for (Case c : cases) {
        ids.add(c.id());
        try {
          TorchSaver.save(c.file(), c.tree(), c.options());
          Path base = out.resolve("sidecar-" + ids.size());
          Path[] sidecar = Sidecar.write(c.tree(), c.location(), base);
          Map<String, Object> check = python.add(c.id(), "sidecar", c.file());
          check.put("sidecar", sidecar[0].toString());
          check.put("sidecar_tensors", sidecar[1].toString());
          if (!c.location().equals("cpu")) check.put("relocated", c.location());
          try (LoadedCheckpoint back = CheckpointLoader.load(c.file(),
              LoadOptions.defaults().mapLocation("cpu"))) {
            ReadBack.assertSame(c.tree(), back, c.location());
          }
        } catch (Exception | AssertionError e) {
          javaFailures.put(c.id(), e);
        }
      }
      verdicts = python.run(out);
    }
    List<DynamicTest> tests = new ArrayList<>();
    for (String id : ids) {
      tests.add(DynamicTest.dynamicTest(id, () -> assertAll(
          () -> {
            if (javaFailures.containsKey(id)) throw javaFailures.get(id);
          },
          () -> assertEquals("ok", verdicts.get(id), "torch.load of the file ckpt4j saved"))));
    }
    return tests.stream();
  }
}
