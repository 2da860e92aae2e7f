package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.StorageRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a save refuses — each with one line that says what, where and how to fix, nothing written
 * at the target and no temporary file left — and the pieces of the writer that tests elsewhere
 * cannot reach alone.
 */
class SaveErrorsTest {
  @TempDir Path dir;
  /** Where the saves that apply a message's hint go ({@link #dir} must stay empty). */
  @TempDir Path fixed;
  private PointerScope scope;
  private final Trees trees = new Trees(3);

  @BeforeEach
  void openScope() {
    scope = new PointerScope();
  }

  @AfterEach
  void closeScope() {
    scope.close();
  }

  private CheckpointException refused(Kind kind, Object tree) throws Exception {
    Path target = dir.resolve("refused.pt");
    CheckpointException e = Refusals.assertRefused(kind,
        () -> TorchSaver.save(target, tree, SaveOptions.defaults()));
    assertFalse(Files.exists(target), "nothing may be written at the target");
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(List.of(), left.toList(), "nothing may be left in the directory");
    }
    return e;
  }

  @Test
  void twoDtypesOverOneStorage() throws Exception {
    Tensor floats = trees.random(DType.FLOAT32, 4);
    Map<Object, Object> tree = new LinkedHashMap<>();
    tree.put("floats", floats);
    tree.put("as_ints", floats.view(torch.ScalarType.Int));
    String message = refused(Kind.UNSUPPORTED_VALUE, tree).getMessage();
    assertTrue(message.contains("['as_ints']") && message.contains("['floats']")
        && message.contains("int32") && message.contains("FloatStorage"), message);
    // The hint, applied: "save a copy of one of them (tensor.clone())".
    assertTrue(message.endsWith("save a copy of one of them (tensor.clone())"), message);
    tree.put("as_ints", floats.view(torch.ScalarType.Int).clone());
    TorchSaver.save(fixed.resolve("copied.pt"), tree, SaveOptions.defaults());
  }

  @Test
  void aTypedTensorOverAStorageFirstSavedUntyped() throws Exception {
    // The other order (a typed tensor first, then a uint16 view of it) is saved: the corpus round
    // trip (tensors_untyped_view_of_typed.pt) checks it in Python. In this order Python would
    // cache the storage as uint8 and rebuild the float32 view with that dtype: refused.
    Tensor halves = trees.random(DType.UINT16, 4);
    Map<Object, Object> tree = new LinkedHashMap<>();
    tree.put("as_uint16", halves);
    tree.put("as_float32", halves.view(torch.ScalarType.Float));
    String message = refused(Kind.UNSUPPORTED_VALUE, tree).getMessage();
    assertTrue(message.contains("['as_float32']"), message);
  }

  @Test
  void aTypedTensorOverAStorageOfOddBytes() throws Exception {
    // A float32 view of bytes 0..3 of a 5-byte storage: the storage is no whole number of floats.
    Tensor bytes = torch.arange(new org.bytedeco.pytorch.Scalar(5))
        .to(torch.ScalarType.Byte);
    Map<Object, Object> tree = new LinkedHashMap<>();
    tree.put("w", bytes.narrow(0, 0, 4).view(torch.ScalarType.Float));
    String message = refused(Kind.UNSUPPORTED_VALUE, tree).getMessage();
    assertTrue(message.contains("['w']") && message.contains("5 bytes"), message);
    // The hint, applied: "save a copy of it (tensor.clone())".
    assertTrue(message.endsWith("save a copy of it (tensor.clone())"), message);
    tree.put("w", bytes.narrow(0, 0, 4).view(torch.ScalarType.Float).clone());
    TorchSaver.save(fixed.resolve("copied.pt"), tree, SaveOptions.defaults());
  }

  @Test
  void valuesNoCheckpointHolds() throws Exception {
    Map<Object, Object> tree = new LinkedHashMap<>();
    List<Object> list = new ArrayList<>();
    list.add(1L);
    list.add(new StringBuilder("not a str"));
    tree.put("model", list);
    String message = refused(Kind.UNSUPPORTED_VALUE, tree).getMessage();
    assertTrue(message.contains("['model'][1]") && message.contains("java.lang.StringBuilder"),
        message);
  }

  @Test
  void tensorsNoCheckpointHolds() throws Exception {
    Map<String, Tensor> bad = new LinkedHashMap<>();
    bad.put("sparse", trees.random(DType.FLOAT32, 2, 2).to_sparse());
    bad.put("complex32", torch.zeros(new long[] {2}, new TensorOptions(torch.ScalarType.ComplexHalf)));
    bad.put("undefined", new Tensor());
    bad.put("meta", torch.empty(new long[] {2}, new TensorOptions(torch.ScalarType.Float)
        .device(new org.bytedeco.pytorch.DeviceOptional(new Device("meta"))), null));
    // What each message says to do, applied: the tree then saves.
    Map<String, String> hints = Map.of(
        "sparse", "save tensor.to_dense() or tensor.dequantize()",
        "complex32", "convert it, e.g. to float32",
        "undefined", "put a real tensor there",
        "meta", "save a tensor that holds data in its place");
    Map<String, Tensor> replacements = Map.of(
        "sparse", bad.get("sparse").to_dense(),
        "complex32", bad.get("complex32").to(torch.ScalarType.Float),
        "undefined", trees.random(DType.FLOAT32, 2),
        "meta", torch.zeros(new long[] {2}, new TensorOptions(torch.ScalarType.Float)));
    for (Map.Entry<String, Tensor> e : bad.entrySet()) {
      PyOrderedDict tree = new PyOrderedDict();
      tree.put(e.getKey(), e.getValue());
      String message = refused(Kind.UNSUPPORTED_VALUE, tree).getMessage();
      assertTrue(message.contains("['" + e.getKey() + "']"), e.getKey() + ": " + message);
      assertTrue(message.endsWith(hints.get(e.getKey())), e.getKey() + ": " + message);
      tree.put(e.getKey(), replacements.get(e.getKey()));
      TorchSaver.save(fixed.resolve(e.getKey() + ".pt"), tree, SaveOptions.defaults());
    }
  }

  @Test
  void tensorRefsNeedTheirCheckpoint() throws Exception {
    Path file = TestData.dir("corpus").resolve("bare_tensor.pt");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      Map<Object, Object> tree = new LinkedHashMap<>();
      tree.put("weight", ckpt.root());
      String message = refused(Kind.INVALID_VALUE, tree).getMessage();
      assertTrue(message.contains("['weight']") && message.contains("LoadedCheckpoint"), message);
      // With the checkpoint it came from, the same tree saves.
      TorchSaver.save(dir.resolve("ok.pt"), tree, ckpt, SaveOptions.defaults());
    }
  }

  @Test
  void aMissingDirectory() throws Exception {
    Path target = dir.resolve("no/such/dir/model.pt");
    CheckpointException e = Refusals.assertRefused(Kind.NOT_FOUND,
        () -> TorchSaver.save(target, new LinkedHashMap<>()));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertEquals("cannot save to " + target, e.location().orElseThrow());
    assertFalse(Files.exists(dir.resolve("no")));
    // The hint, applied: "create it first".
    assertTrue(e.getMessage().endsWith("; create it first"), e.getMessage());
    Files.createDirectories(target.getParent());
    TorchSaver.save(target, new LinkedHashMap<>());
    assertTrue(Files.isRegularFile(target));
  }

  @Test
  void aTargetThatIsADirectory() throws Exception {
    Path target = Files.createDirectories(dir.resolve("model.pt"));
    CheckpointException e = Refusals.assertRefused(Kind.IO,
        () -> TorchSaver.save(target, new LinkedHashMap<>()));
    assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
  }

  @Test
  void aHostCopyHasTheStorageBytesInOtherMemory() throws Exception {
    // The copy a CUDA storage gets before it is written, made here from a CPU storage.
    Tensor t = trees.random(DType.FLOAT64, 5, 3);
    try (Storage storage = t.storage(); Device device = storage.device();
        Tensor copy = StorageStream.hostCopy(storage, device, 8, 64)) {
      assertTrue(copy.is_cpu());
      assertEquals(64, copy.nbytes());
      assertTrue(copy.data_ptr().address() != storage.data().address() + 8, "not a copy");
      byte[] expected = new byte[64];
      byte[] got = new byte[64];
      new BytePointer(storage.data()).position(8).get(expected);
      new BytePointer(copy.data_ptr()).get(got);
      org.junit.jupiter.api.Assertions.assertArrayEquals(expected, got);
    }
  }

  @Test
  void bareStoragesAreSavedAsStorages() throws Exception {
    // The reader hands legacy bare storages as StorageRefs; a view of a larger storage is saved as
    // a storage of its own bytes (check_saved.py compares them with Python in the corpus test).
    Path file = TestData.dir("corpus")
        .resolve("realworld/bumblebee__test_fixtures_pytorch_storage_view.legacy.pt");
    Path target = dir.resolve("storages.pt");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      TorchSaver.save(target, ckpt, SaveOptions.defaults());
      try (LoadedCheckpoint back = CheckpointLoader.load(target, LoadOptions.defaults())) {
        List<?> before = (List<?>) ckpt.root();
        List<?> after = (List<?>) back.root();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
          StorageRef a = (StorageRef) before.get(i);
          StorageRef b = (StorageRef) after.get(i);
          assertEquals(a.dtype(), b.dtype());
          assertEquals(a.nbytes(), b.nbytes());
          assertEquals(0, b.byteOffsetInRoot());
          assertEquals(io.ckpt4j.tensor.TensorBytes.sha256(ckpt.tensor(ckpt.wholeStorage(a))),
              io.ckpt4j.tensor.TensorBytes.sha256(back.tensor(back.wholeStorage(b))));
        }
      }
    }
  }
}
