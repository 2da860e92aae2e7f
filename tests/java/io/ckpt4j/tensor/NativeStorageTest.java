package io.ckpt4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native storage paths (native/ckpt4j_native.cpp through JavaCPP): positioned reads into
 * tensor memory and copy-on-write mappings owned by the tensor's storage.
 */
class NativeStorageTest {
  @TempDir Path dir;

  private Path file(int size, long seed) throws IOException {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    Path f = dir.resolve("bytes-" + seed + ".bin");
    Files.write(f, bytes);
    return f;
  }

  private static byte[] contents(Tensor t) {
    byte[] out = new byte[(int) t.nbytes()];
    new BytePointer(t.data_ptr()).get(out);
    return out;
  }

  private static StorageRef storage(Path f, long offset, long nbytes) throws CheckpointException {
    StorageRef ref = StorageRef.of("s", DType.UINT8, "cpu", nbytes, f.toString());
    ref.bind(new StorageRef.FileRange(f, offset));
    return ref;
  }

  private static TensorRef whole(StorageRef s) throws CheckpointException {
    return TensorRef.create(s, DType.UINT8, 0, new long[] {s.nbytes()}, new long[] {1}, false, "t");
  }

  @Test
  void readAndMapGiveTheFileBytes() throws Exception {
    // Large enough that the native read splits across threads (32 MiB threshold).
    int size = (40 << 20) + 123;
    Path f = file(size, 1);
    byte[] expected = Files.readAllBytes(f);
    for (TensorMaterializer.Mode mode : TensorMaterializer.Mode.values()) {
      StorageRef s = storage(f, 77, size - 77);
      try (TensorMaterializer m = new TensorMaterializer(List.of(s), MapLocation.none(), mode, 2)) {
        Tensor t = m.tensor(whole(s));
        byte[] got = contents(t);
        assertEquals(size - 77, got.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(expected, 77, size), got, mode.name());
      }
    }
  }

  @Test
  void aMappedStorageOutlivesItsCheckpointWhenReferenced() throws Exception {
    Path f = file(4096 + 10, 2);
    byte[] expected = java.util.Arrays.copyOfRange(Files.readAllBytes(f), 10, 4106);
    Tensor kept;
    StorageRef s = storage(f, 10, 4096);
    TensorMaterializer m = new TensorMaterializer(List.of(s), MapLocation.none(),
        TensorMaterializer.Mode.MMAP, 1);
    kept = new Tensor(m.tensor(whole(s)));
    m.close();
    m.close(); // a double close is harmless
    assertArrayEquals(expected, contents(kept), "the mapping lives as long as a tensor uses it");
    kept.close();
  }

  @Test
  void writesToAMappedTensorNeverReachTheFile() throws Exception {
    Path f = file(1000, 3);
    byte[] before = Files.readAllBytes(f);
    StorageRef s = storage(f, 0, 1000);
    try (TensorMaterializer m = new TensorMaterializer(List.of(s), MapLocation.none(),
        TensorMaterializer.Mode.MMAP, 1)) {
      m.tensor(whole(s)).fill_(new org.bytedeco.pytorch.Scalar(7L));
    }
    assertArrayEquals(before, Files.readAllBytes(f));
  }

  @Test
  void aRangePastTheFileIsAClearError() throws Exception {
    Path f = file(100, 4);
    for (TensorMaterializer.Mode mode : TensorMaterializer.Mode.values()) {
      StorageRef s = storage(f, 90, 20);
      try (TensorMaterializer m = new TensorMaterializer(List.of(s), MapLocation.none(), mode, 1)) {
        // The native reader finds it: the Java readers check every range before (CraftedFilesTest).
        CheckpointException e = Refusals.assertRefused(Kind.NATIVE, () -> m.tensor(whole(s)));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
      }
    }
  }

  @Test
  void storagesNearEachOtherShareOneBlockAndFarOnesDoNot() throws Exception {
    // 64 storages with small gaps (one block), then one past a gap larger than FileBlocks.MAX_GAP.
    int far = (int) FileBlocks.MAX_GAP + (1 << 20) + 100;
    Path f = file(far + 5000, 5);
    byte[] all = Files.readAllBytes(f);
    List<StorageRef> roots = new java.util.ArrayList<>();
    for (int i = 0; i < 64; i++) roots.add(storage(f, i * 16000L + 7, 15000));
    roots.add(storage(f, far, 4096));
    assertEquals(2, new FileBlocks(roots).blocks().size());
    for (TensorMaterializer.Mode mode : TensorMaterializer.Mode.values()) {
      try (TensorMaterializer m = new TensorMaterializer(roots, MapLocation.none(), mode, 4)) {
        m.preloadAll();
        for (StorageRef s : roots) {
          int from = (int) ((StorageRef.FileRange) s.source()).offset();
          assertArrayEquals(java.util.Arrays.copyOfRange(all, from, from + (int) s.nbytes()),
              contents(m.tensor(whole(s))), mode + " storage at " + from);
        }
      }
    }
  }

  @Test
  void aClosedMaterializerRefusesWork() throws Exception {
    Path f = file(10, 6);
    StorageRef s = storage(f, 0, 10);
    TensorMaterializer m = new TensorMaterializer(List.of(s), MapLocation.none(),
        TensorMaterializer.Mode.READ, 1);
    m.close();
    m.close(); // a second close is harmless
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> m.tensor(whole(s)));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }
}
