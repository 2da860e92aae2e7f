package io.ckpt4j.libtorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * C++ module archives (torch::save / torch::load through OutputArchive / InputArchive) of a
 * module built in Java: they load back bit for bit, strictly; Java's TorchScript loader and
 * Python's torch.jit.load read them with Python's state_dict names.
 */
class LibTorchArchivesTest {
  private static final String CPU = "cpu";

  @Test
  void savedModuleLoadsBackBitForBit(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("net.pt");
    try (Module saved = new ArchiveNet(); Module fresh = new ArchiveNet()) {
      ArchiveNet.fill(saved);
      LibTorchArchives.save(saved, file);
      Map<String, Tensor> expected = ArchiveNet.stateDict(saved);
      assertFalse(sameValues(expected, ArchiveNet.stateDict(fresh)), "fresh init differs");
      LibTorchArchives.load(fresh, file, CPU);
      Map<String, Tensor> actual = ArchiveNet.stateDict(fresh);
      assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
      for (String key : expected.keySet()) {
        ScriptFixtures.assertTensor(expected.get(key), actual.get(key), 0, key);
        assertEquals(CPU, actual.get(key).device().str().getString(), key);
      }
    }
  }

  @Test
  void archiveIsTorchScriptWithPythonsNames(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("net.pt");
    try (Module saved = new ArchiveNet()) {
      ArchiveNet.fill(saved);
      LibTorchArchives.save(saved, file);
      Map<String, Tensor> expected = ArchiveNet.stateDict(saved);
      try (ScriptModel script = TorchScript.load(file, CPU)) {
        Map<String, Tensor> actual = script.stateDict();
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
        for (String key : expected.keySet()) {
          ScriptFixtures.assertTensor(expected.get(key), actual.get(key), 0, key);
        }
      }
    }
  }

  @Test
  void pythonReadsTheArchive(@TempDir Path dir) throws Exception {
    try (Module saved = new ArchiveNet()) {
      ArchiveNet.fill(saved);
      LibTorchArchives.save(saved, dir.resolve("net.pt"));
      Map<String, Tensor> expected = ArchiveNet.stateDict(saved);
      ScriptFixtures.writeSafetensors(expected, dir.resolve("net.expected.safetensors"));
      ScriptFixtures.writeJson(dir.resolve(ScriptFixtures.JAVA_MANIFEST), Map.of("archives",
          List.of(Map.of("file", "net.pt", "expected", "net.expected.safetensors",
              "names", new ArrayList<>(expected.keySet())))));
    }
    String report = ScriptFixtures.checkWithPython(dir);
    assertTrue(report.contains("1 ok, 0 failed"), report);
  }

  @Test
  void strictLoadListsEveryDifferenceAndChangesNothing(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("net.pt");
    try (Module saved = new ArchiveNet()) {
      ArchiveNet.fill(saved);
      LibTorchArchives.save(saved, file);
    }
    int wider = ArchiveNet.CHANNELS * 2;
    try (Module other = new ArchiveNet(wider, false, true)) {
      Map<String, Tensor> before = clones(ArchiveNet.stateDict(other));
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> LibTorchArchives.load(other, file, CPU));
      String m = e.getMessage();
      assertTrue(m.contains("does not match the module (strict)"), m);
      assertTrue(m.contains("missing_keys [extra.weight, extra.bias]"), m);
      assertTrue(m.contains("unexpected_keys [bn.weight, bn.bias, bn.running_mean,"
          + " bn.running_var, bn.num_batches_tracked]"), m);
      assertTrue(m.contains("size mismatch for conv.weight: shape [" + ArchiveNet.CHANNELS + ", "
          + ArchiveNet.IN_CHANNELS + ", 3, 3] in the archive, [" + wider + ", "
          + ArchiveNet.IN_CHANNELS + ", 3, 3] in the module"), m);
      assertTrue(m.contains("size mismatch for head.0.weight"), m);
      assertTrue(sameValues(before, ArchiveNet.stateDict(other)), "nothing was loaded");
    }
  }

  @Test
  void devicesAreChecked(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("net.pt");
    try (Module saved = new ArchiveNet()) {
      LibTorchArchives.save(saved, file);
      CheckpointException unknown = Refusals.assertRefused(Kind.DEVICE,
          () -> LibTorchArchives.load(saved, file, "tpu:0"));
      assertTrue(unknown.getMessage().contains("unknown device 'tpu:0'"), unknown.getMessage());
      if (!torch.cuda_is_available()) {
        CheckpointException e = Refusals.assertRefused(Kind.DEVICE,
            () -> LibTorchArchives.load(saved, file, "cuda:0"));
        assertTrue(e.getMessage().contains("CUDA is not available"), e.getMessage());
        assertTrue(e.getMessage().endsWith(": use device \"cpu\""), e.getMessage());
        LibTorchArchives.load(saved, file, "cpu"); // the hint, applied
      } else {
        LibTorchArchives.load(saved, file, "cuda:0");
        for (Tensor t : ArchiveNet.stateDict(saved).values()) assertTrue(t.is_cuda());
      }
    }
  }

  @Test
  void otherFilesAreNamed() throws Exception {
    JsonNode plain = ScriptFixtures.list("not_torchscript").get(0);
    try (Module into = new ArchiveNet()) {
      CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
          () -> LibTorchArchives.load(into, ScriptFixtures.file(plain), CPU));
      assertTrue(e.getMessage().contains("is a torch.save checkpoint (zip format), not a LibTorch"
          + " module archive"), e.getMessage());
      // The hint, applied: "read it with CheckpointLoader.load, which never runs code".
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(ScriptFixtures.file(plain),
          LoadOptions.defaults().mapLocation(CPU))) {
        assertFalse(ckpt.tensorRefs().isEmpty());
      }
    }
  }

  @Test
  void saveReplacesAtomicallyAndLeavesNoTemporaryFiles(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("net.pt");
    try (Module first = new ArchiveNet(); Module second = new ArchiveNet()) {
      ArchiveNet.fill(first);
      LibTorchArchives.save(second, file);
      LibTorchArchives.save(first, file);
      try (Module loaded = new ArchiveNet()) {
        LibTorchArchives.load(loaded, file, CPU);
        assertTrue(sameValues(ArchiveNet.stateDict(first), ArchiveNet.stateDict(loaded)));
      }
    }
    try (var entries = Files.list(dir)) {
      assertEquals(List.of(file), entries.toList());
    }
  }

  private static Map<String, Tensor> clones(Map<String, Tensor> tensors) {
    Map<String, Tensor> out = new java.util.LinkedHashMap<>();
    tensors.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  private static boolean sameValues(Map<String, Tensor> a, Map<String, Tensor> b) {
    if (!a.keySet().equals(b.keySet())) return false;
    for (String key : a.keySet()) {
      Tensor x = a.get(key);
      Tensor y = b.get(key);
      if (!ScriptFixtures.shape(x).equals(ScriptFixtures.shape(y)) || !torch.equal(x, y)) {
        return false;
      }
    }
    return true;
  }
}
