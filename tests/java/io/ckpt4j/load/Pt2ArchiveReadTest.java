package io.ckpt4j.load;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * torch.export {@code .pt2} archives that tests/python/make_pt2.py wrote with torch 2.13: every
 * program's state_dict and constants read as {@code torch.export.load} gives them — names and
 * order, dtype, shape, device, requires_grad and SHA-256 of every tensor, from Python's own
 * {@code ep.state_dict} / {@code ep.constants} — eager and lazy; tied weights sharing one
 * storage; an AOTInductor package and damaged archives refused with the right kind.
 */
class Pt2ArchiveReadTest {

  private static Path dir() {
    return TestData.dir("pt2");
  }

  private static JsonNode manifest() {
    return TestData.manifest("pt2");
  }

  @TestFactory
  Stream<DynamicTest> everyProgramAsTorchExportLoadGivesIt() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode archive : manifest().get("archives")) {
      for (Map.Entry<String, JsonNode> m : archive.get("models").properties()) {
        tests.add(DynamicTest.dynamicTest(archive.get("file").asText() + " " + m.getKey(),
            () -> matchesPython(dir().resolve(archive.get("file").asText()), m.getKey(),
                m.getValue())));
      }
    }
    assertTrue(tests.size() >= 5, "cases: " + tests.size());
    return tests.stream();
  }

  private static void matchesPython(Path file, String model, JsonNode expected) throws Exception {
    assertEquals(Format.PT2, CheckpointLoader.detect(file));
    for (boolean lazy : new boolean[] {false, true}) {
      LoadOptions options = LoadOptions.defaults().mmap(lazy).pt2Model(model);
      String what = file.getFileName() + " " + model + (lazy ? " (lazy)" : " (eager)");
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options)) {
        ObjectNode doc = InspectJson.document(ckpt);
        assertJsonEquals(expected.get("expected").get("entries"), doc.get("entries"), what);
        assertJsonEquals(expected.get("constants").get("entries"), doc.get("constants"),
            what + " constants");
        assertEquals(List.of(), ckpt.warnings());
        if (lazy) {
          for (StorageRef s : ckpt.storages()) {
            assertInstanceOf(StorageRef.FileRange.class, s.source(), s.key() + " mapped in place");
          }
        }
        tiedAsInPython(ckpt, expected.get("tied"), what);
        try (StateDict sd = StateDict.from(ckpt);
            StateDict constants = StateDict.fromTree(ckpt.constants(), ckpt)) {
          assertEquals(tensors(expected.get("expected")), sd.size(), what);
          assertEquals(tensors(expected.get("constants")), constants.size(), what);
        }
      }
    }
  }

  /** Entries over one record share one storage, as as_strided over one file tensor does. */
  private static void tiedAsInPython(LoadedCheckpoint ckpt, JsonNode tied, String what)
      throws CheckpointException {
    Map<?, ?> root = (Map<?, ?>) ckpt.root();
    for (JsonNode group : tied) {
      TensorRef first = (TensorRef) root.get(group.get(0).get(0).asText());
      try (var a = ckpt.tensor(first).storage()) {
        for (JsonNode path : group) {
          TensorRef ref = (TensorRef) root.get(path.get(0).asText());
          assertTrue(ref.isParameter(), path + " is a Parameter");
          try (var b = ckpt.tensor(ref).storage()) {
            assertEquals(a.data().address(), b.data().address(), what + ": " + group);
          }
        }
      }
    }
  }

  @Test
  void theDefaultProgramIsTheOneTorchExportLoadReads() throws Exception {
    Path multi = dir().resolve("multi.pt2");
    JsonNode expected = model("multi.pt2", "model");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(multi, LoadOptions.defaults())) {
      assertJsonEquals(expected.get("expected").get("entries"),
          InspectJson.document(ckpt).get("entries"), "multi.pt2 default");
    }
  }

  /** No program named "model": refused, and the hint it gives (pt2Model) reads it. */
  @Test
  void anArchiveWithoutModelAsksWhichProgramToRead() throws Exception {
    Path named = dir().resolve("named.pt2");
    CheckpointException e = Refusals.assertRefused(Kind.NOT_FOUND,
        () -> CheckpointLoader.load(named, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("encoder") && e.getMessage().contains("pt2Model"),
        e.getMessage());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(named,
        LoadOptions.defaults().pt2Model("encoder"))) {
      assertJsonEquals(model("named.pt2", "encoder").get("expected").get("entries"),
          InspectJson.document(ckpt).get("entries"), "named.pt2 encoder");
    }
    Refusals.assertRefused(Kind.NOT_FOUND, () -> CheckpointLoader.load(named,
        LoadOptions.defaults().pt2Model("decoder")).close());
  }

  @Test
  void anAotInductorPackageIsRecognizedAndNotRead() throws Exception {
    JsonNode aoti = manifest().get("aoti");
    if (aoti.has("skipped")) {
      System.err.println("Pt2ArchiveReadTest: no AOTInductor package: " + aoti.get("skipped"));
      return;
    }
    Path file = dir().resolve(aoti.get("file").asText());
    assertEquals(Format.AOTINDUCTOR, CheckpointLoader.detect(file));
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("AOTInductor package"), e.getMessage());
    for (JsonNode model : aoti.get("models")) {
      assertTrue(e.getMessage().contains(model.asText()), e.getMessage());
    }
    // The advice: the ExportedProgram it was compiled from, saved with torch.export.save.
    assertTrue(e.getMessage().contains("torch.export.save"), e.getMessage());
    JsonNode source = aoti.get("source");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir().resolve(source.get("file").asText()),
        LoadOptions.defaults())) {
      assertJsonEquals(source.get("expected").get("entries"),
          InspectJson.document(ckpt).get("entries"), "the package's source program");
    }
  }

  /** The name means nothing: a TorchScript archive called .pt2 is still TorchScript. */
  @Test
  void aTorchScriptArchiveNamedPt2IsTorchScript(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("scripted.pt2");
    Files.copy(TestData.dir("torchscript").resolve("convnet_scripted.pt"), file);
    assertEquals(Format.TORCHSCRIPT, CheckpointLoader.detect(file));
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("TorchScript archive"), e.getMessage());
  }

  @TestFactory
  Stream<DynamicTest> damagedArchivesAreRefusedWithTheirKind() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : manifest().get("damaged")) {
      Path file = dir().resolve(c.get("file").asText());
      tests.add(DynamicTest.dynamicTest(c.get("file").asText(), () -> {
        for (boolean lazy : new boolean[] {false, true}) {
          CheckpointException e = Refusals.assertRefused(Kind.valueOf(c.get("kind").asText()),
              () -> CheckpointLoader.load(file, LoadOptions.defaults().mmap(lazy)).close(),
              file.toString());
          for (JsonNode m : c.get("mentions")) {
            assertTrue(e.getMessage().contains(m.asText()),
                "'" + m.asText() + "' not in: " + e.getMessage());
          }
        }
      }));
    }
    assertTrue(tests.size() >= 5, "cases: " + tests.size());
    return tests.stream();
  }

  /** The tensors' values, not only their hashes: a float16 parameter read through LibTorch. */
  @Test
  void aTransposedParameterKeepsItsStrides() throws Exception {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir().resolve("program.pt2"),
        LoadOptions.defaults())) {
      TensorRef t = (TensorRef) ((Map<?, ?>) ckpt.root()).get("transposed");
      assertEquals(List.of(1L, 3L), List.of(t.stride()[0], t.stride()[1]));
      Tensor tensor = ckpt.tensor(t);
      assertEquals(3, tensor.size(0));
      assertEquals(4, tensor.size(1));
    }
  }

  private static int tensors(JsonNode document) {
    int n = 0;
    for (JsonNode e : document.get("entries")) {
      if (e.get("kind").asText().equals("tensor")) n++;
    }
    return n;
  }

  private static JsonNode model(String file, String model) {
    for (JsonNode archive : manifest().get("archives")) {
      if (archive.get("file").asText().equals(file)) return archive.get("models").get(model);
    }
    throw new AssertionError("no " + file + " in the manifest");
  }
}
