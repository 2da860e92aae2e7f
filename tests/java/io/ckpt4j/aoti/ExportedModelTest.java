package io.ckpt4j.aoti;

import static io.ckpt4j.Refusals.assertRefused;
import static io.ckpt4j.aoti.AotiFixtures.assertClose;
import static io.ckpt4j.aoti.AotiFixtures.closeAll;
import static io.ckpt4j.aoti.AotiFixtures.manifest;
import static io.ckpt4j.aoti.AotiFixtures.pkg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.TestData;
import io.ckpt4j.layout.pt2.AotiConstant;
import io.ckpt4j.layout.pt2.AotiDim;
import io.ckpt4j.layout.pt2.AotiInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AOTInductor packages compiled by Python torch 2.13 (tests/python/make_aoti.py), run in Java. */
class ExportedModelTest {
  private static final int THREADS = 4;
  private static final int CALLS_PER_THREAD = 200;

  @TempDir Path temp;

  @Test
  void specIsWhatPythonExported() throws Exception {
    for (Map.Entry<String, JsonNode> e : fields(manifest().get("packages"))) {
      JsonNode expected = e.getValue();
      try (ExportedModel model = ExportedModel.load(pkg(e.getKey()), AotiOptions.defaults())) {
        List<AotiInput> inputs = model.inputs();
        assertEquals(expected.get("inputs").size(), inputs.size(), e.getKey());
        for (int i = 0; i < inputs.size(); i++) {
          JsonNode in = expected.get("inputs").get(i);
          AotiInput got = inputs.get(i);
          assertEquals(in.get("dtype").asText(), got.dtype(), e.getKey() + " input " + i);
          assertEquals(in.get("device").asText(), got.deviceName(), e.getKey() + " input " + i);
          assertEquals(in.get("sizes").size(), got.dims().size(), e.getKey() + " rank " + i);
          for (int d = 0; d < got.dims().size(); d++) {
            JsonNode size = in.get("sizes").get(d);
            AotiDim dim = got.dims().get(d);
            if (size.isArray()) {
              assertTrue(dim.isDynamic(), e.getKey() + " " + got);
              assertEquals(size.get(0).asLong(), dim.min(), e.getKey() + " " + got);
              assertEquals(size.get(1).asLong(), dim.max(), e.getKey() + " " + got);
            } else {
              assertEquals(size.asLong(), dim.size(), e.getKey() + " " + got);
            }
          }
        }
        assertEquals(expected.get("outputs").asInt(), model.spec().outputs().size(), e.getKey());
        List<String> fqns = new ArrayList<>();
        for (AotiConstant c : model.constants()) fqns.add(c.fqn());
        fqns.sort(null);
        assertEquals(texts(expected.get("constant_fqns")), fqns, e.getKey());
        Map<String, String> metadata = new TreeMap<>();
        for (Map.Entry<String, JsonNode> m : fields(expected.get("metadata"))) {
          metadata.put(m.getKey(), m.getValue().isNull() ? null : m.getValue().asText());
        }
        assertEquals(metadata, new TreeMap<>(model.metadata()), e.getKey());
        assertEquals(expected.get("call_spec").get(0).asText(), model.spec().inSpec());
        assertEquals(expected.get("call_spec").get(1).asText(), model.spec().outSpec());
        assertEquals(expected.get("inductor_configs")
            .has("aot_inductor.use_runtime_constant_folding"),
            model.spec().runtimeConstantFolding(), e.getKey());
      }
    }
  }

  @Test
  void outputsEqualAotiLoadPackages() throws Exception {
    for (Map.Entry<String, JsonNode> e : fields(manifest().get("packages"))) {
      try (ExportedModel model = ExportedModel.load(pkg(e.getKey()), AotiOptions.defaults())) {
        for (JsonNode file : e.getValue().get("cases")) {
          try (AotiFixtures.Case c = AotiFixtures.read(file.asText())) {
            List<Tensor> out = model.forward(c.inputs());
            assertClose(c.outputs(), out, file.asText());
            closeAll(out);
          }
        }
      }
    }
  }

  @Test
  void aNonContiguousInputGivesTheContiguousResult() throws Exception {
    String file = manifest().get("packages").get("cnn").get("cases").get(0).asText();
    try (ExportedModel model = ExportedModel.load(pkg("cnn"), AotiOptions.defaults());
        AotiFixtures.Case c = AotiFixtures.read(file);
        Tensor swapped = c.inputs().get(0).transpose(2, 3).contiguous();
        Tensor view = swapped.transpose(2, 3)) {
      assertFalse(view.is_contiguous());
      List<Tensor> out = model.forward(view);
      assertClose(c.outputs(), out, "non-contiguous " + file);
      closeAll(out);
    }
  }

  @Test
  void everyWrongInputIsRefusedBeforeNativeCode() throws Exception {
    JsonNode dyn = manifest().get("packages").get("dynamic");
    JsonNode batch = dyn.get("inputs").get(0).get("sizes").get(0);
    long min = batch.get(0).asLong();
    long max = batch.get(1).asLong();
    try (ExportedModel model = ExportedModel.load(pkg("dynamic"), AotiOptions.defaults());
        Tensor x = torch.randn(min, 3, 16, 16);
        Tensor shift = torch.randn(10);
        Tensor wide = x.to(torch.ScalarType.Double);
        Tensor flat = torch.randn(min, 3, 16);
        Tensor narrow = torch.randn(min, 4, 16, 16);
        Tensor small = torch.randn(min - 1, 3, 16, 16);
        Tensor big = torch.randn(max + 1, 3, 16, 16)) {
      closeAll(model.forward(x, shift)); // the right inputs run
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(x)),
          "takes 2 input(s)", "given 1");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(wide, shift)),
          "input 0", "must be float32, not float64");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(flat, shift)),
          "input 0", "must have 4 dimensions", "not 3");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(narrow, shift)),
          "input 0", "size 4 in dimension 1", "takes 3 (a static dimension)");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(small, shift)),
          "size " + (min - 1) + " in dimension 0", "[" + min + ", " + max + "]");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(big, shift)),
          "size " + (max + 1) + " in dimension 0", "[" + min + ", " + max + "]");
      assertMentions(assertRefused(Kind.INVALID_VALUE, () -> model.forward(shift, x)),
          "input 0");
      assertMentions(assertRefused(Kind.INVALID_VALUE,
          () -> model.forward(java.util.Arrays.asList(x, null))), "input 1", "not a tensor");
      // The hint applied: converted, the input runs.
      try (Tensor back = wide.to(torch.ScalarType.Float)) {
        closeAll(model.forward(back, shift));
      }
    }
  }

  @Test
  void closeRemovesTheUnpackedFolder() throws Exception {
    ExportedModel model = ExportedModel.load(pkg("cnn"), AotiOptions.defaults().unpackDir(temp));
    Path dir = model.unpackedDir();
    assertTrue(Files.isDirectory(dir), dir.toString());
    assertTrue(dir.startsWith(temp), dir.toString());
    model.close();
    assertFalse(Files.exists(dir), dir + " is still there");
    model.close(); // a second close does nothing
    try (Tensor x = torch.randn(2, 3, 16, 16)) {
      assertThrows(IllegalStateException.class, () -> model.forward(x));
    }
    try (var left = Files.list(temp)) {
      assertEquals(0, left.count(), "folders left in " + temp);
    }
  }

  @Test
  void aDeadProcessesFolderIsRemovedByTheNextLoad() throws Exception {
    Process done = new ProcessBuilder("true").start();
    done.waitFor();
    Path stale = Files.createDirectory(temp.resolve(UnpackedPackage.PREFIX + done.pid() + "-1"));
    Files.writeString(stale.resolve("x.wrapper.so"), "left by a crash");
    Path live = Files.createDirectory(temp.resolve(UnpackedPackage.PREFIX
        + ProcessHandle.current().pid() + "-other"));
    try (ExportedModel model = ExportedModel.load(pkg("cnn"),
        AotiOptions.defaults().unpackDir(temp))) {
      assertFalse(Files.exists(stale), stale + " was not removed");
      assertTrue(Files.exists(live), "a live process's folder was removed");
    }
  }

  @Test
  void fourThreadsAgreeWithOneThread() throws Exception {
    String file = manifest().get("packages").get("dynamic").get("cases").get(1).asText();
    try (ExportedModel model = ExportedModel.load(pkg("dynamic"),
        AotiOptions.defaults().numRunners(2));
        AotiFixtures.Case c = AotiFixtures.read(file)) {
      List<Tensor> reference = model.forward(c.inputs());
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          Callable<Integer> calls = () -> {
            int equal = 0;
            for (int i = 0; i < CALLS_PER_THREAD; i++) {
              List<Tensor> out = model.forward(c.inputs());
              boolean same = true;
              for (int o = 0; o < out.size(); o++) {
                same &= torch.equal(out.get(o), reference.get(o));
              }
              closeAll(out);
              if (same) equal++;
            }
            return equal;
          };
          results.add(pool.submit(calls));
        }
        for (Future<Integer> r : results) assertEquals(CALLS_PER_THREAD, r.get());
      } finally {
        pool.shutdown();
        closeAll(reference);
      }
    }
  }

  @Test
  void whatIsNoRunnablePackageIsRefusedOnLoad() throws Exception {
    assertRefused(Kind.NOT_FOUND, () -> ExportedModel.load(temp.resolve("absent.pt2"),
        AotiOptions.defaults()));
    Path program = TestData.dir("pt2").resolve("program.pt2");
    assertMentions(assertRefused(Kind.WRONG_LOADER,
        () -> ExportedModel.load(program, AotiOptions.defaults())), "without a compiled model");
    Path weights = AotiFixtures.file("swap.pt");
    assertMentions(assertRefused(Kind.WRONG_LOADER,
        () -> ExportedModel.load(weights, AotiOptions.defaults())), "CheckpointLoader.load");
    Path text = Files.writeString(temp.resolve("text.pt2"), "not a zip");
    assertRefused(Kind.NOT_A_CHECKPOINT, () -> ExportedModel.load(text, AotiOptions.defaults()));
    assertMentions(assertRefused(Kind.NOT_FOUND, () -> ExportedModel.load(pkg("cnn"),
        AotiOptions.defaults().model("other"))), "no AOTInductor model 'other'", "[model]");
    assertMentions(assertRefused(Kind.DEVICE, () -> ExportedModel.load(pkg("cnn"),
        AotiOptions.defaults().device("cuda:0"))), "compiled for cpu", "device cpu");
    try (ExportedModel model = ExportedModel.load(pkg("cnn"),
        AotiOptions.defaults().device("cpu"))) {
      assertEquals("cpu", model.device()); // the hint applied
    }
  }

  @Test
  void aPackageForAnInstructionSetThisCpuLacksIsRefused() throws Exception {
    JsonNode isa = manifest().get("isa");
    if (isa.has("skipped")) {
      System.err.println("ExportedModelTest: no ISA case: " + isa.get("skipped").asText());
      return;
    }
    CheckpointException e = assertRefused(Kind.UNSUPPORTED_FORMAT, () -> ExportedModel.load(
        AotiFixtures.file(isa.get("file").asText()), AotiOptions.defaults().unpackDir(temp)));
    assertMentions(e, isa.get("missing").asText(), "compile the ExportedProgram again");
    try (var left = Files.list(temp)) {
      assertEquals(0, left.count(), "a refused load left a folder");
    }
    // The hint applied: the same program compiled on this machine (cnn.pt2) loads.
    ExportedModel.load(pkg("cnn"), AotiOptions.defaults().unpackDir(temp)).close();
  }

  @Test
  void anUnpackFolderThatCannotBeMadeIsRefusedWithTheOption() throws Exception {
    Path file = Files.writeString(temp.resolve("a-file"), "not a folder");
    assertMentions(assertRefused(Kind.IO, () -> ExportedModel.load(pkg("cnn"),
        AotiOptions.defaults().unpackDir(file.resolve("below")))), "AotiOptions.unpackDir");
    // The hint applied: another folder.
    ExportedModel.load(pkg("cnn"), AotiOptions.defaults().unpackDir(temp.resolve("ok"))).close();
  }

  static void assertMentions(CheckpointException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
    }
  }

  static List<Map.Entry<String, JsonNode>> fields(JsonNode node) {
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    node.fields().forEachRemaining(out::add);
    return out;
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
