package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeStorage;
import io.ckpt4j.value.StorageRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.TensorVector;

/**
 * Groups file-backed storages into blocks — runs of storages that lie close together in one
 * file, as torch.save lays them out — so that one native call reads (or maps) a whole block and
 * hands back one tensor per storage, all sharing the block's memory.
 *
 * <p>One block per file is the common case: a zip checkpoint's storages sit back to back, 64-byte
 * aligned, with only small zip headers between them. A gap larger than {@link #MAX_GAP} starts a
 * new block, so unrelated bytes are never read; so does a block reaching {@link #MAX_BLOCK}, so
 * that a large file is read in steps a progress display can follow (each step is still large
 * enough to split over threads).
 */
final class FileBlocks {
  /** The most unused bytes one block may span between two storages. */
  static final long MAX_GAP = 1L << 20;
  /** A block grows past this many bytes only by its first storage (a storage is never split). */
  static final long MAX_BLOCK = 256L << 20;

  /** A run of storages of one file: the byte range and the storages in it. */
  record Block(Path file, long offset, long length, List<StorageRef> storages) {}

  private final List<Block> blocks = new ArrayList<>();
  private final Map<StorageRef, Block> blockOf = new IdentityHashMap<>();

  /** Plans blocks for every file-backed root storage among {@code roots}. */
  FileBlocks(List<StorageRef> roots) {
    this(roots, MAX_BLOCK);
  }

  /** Plans blocks of at most {@code maxBlock} bytes (unless one storage is larger). */
  FileBlocks(List<StorageRef> roots, long maxBlock) {
    Map<Path, List<StorageRef>> byFile = new LinkedHashMap<>();
    for (StorageRef root : roots) {
      if (root.source() instanceof StorageRef.FileRange range) {
        byFile.computeIfAbsent(range.file(), f -> new ArrayList<>()).add(root);
      }
    }
    for (Map.Entry<Path, List<StorageRef>> e : byFile.entrySet()) {
      List<StorageRef> sorted = new ArrayList<>(e.getValue());
      sorted.sort(Comparator.comparingLong(FileBlocks::offset));
      List<StorageRef> run = new ArrayList<>();
      long start = 0;
      long end = 0;
      for (StorageRef s : sorted) {
        long nextEnd = Math.max(end, offset(s) + s.nbytes());
        if (!run.isEmpty() && (offset(s) - end > MAX_GAP || nextEnd - start > maxBlock)) {
          add(new Block(e.getKey(), start, end - start, run));
          run = new ArrayList<>();
        }
        if (run.isEmpty()) start = offset(s);
        run.add(s);
        end = Math.max(end, offset(s) + s.nbytes());
      }
      if (!run.isEmpty()) add(new Block(e.getKey(), start, end - start, run));
    }
  }

  private void add(Block block) {
    blocks.add(block);
    for (StorageRef s : block.storages()) blockOf.put(s, block);
  }

  private static long offset(StorageRef s) {
    return ((StorageRef.FileRange) s.source()).offset();
  }

  List<Block> blocks() {
    return blocks;
  }

  /** The bytes all blocks span. */
  long totalBytes() {
    long total = 0;
    for (Block b : blocks) total = Math.addExact(total, b.length());
    return total;
  }

  /** The block that holds {@code root}, or null when its bytes are not in a file. */
  Block blockOf(StorageRef root) {
    return blockOf.get(root);
  }

  /**
   * Reads ({@code map} false) or maps one block, appending one uint8 CPU tensor per storage, in
   * the block's order, to {@code out} (whose owner releases them).
   */
  static void load(Block block, boolean map, int threads, TensorVector out)
      throws CheckpointException {
    int n = block.storages().size();
    long[] offsets = new long[n];
    long[] lengths = new long[n];
    for (int i = 0; i < n; i++) {
      StorageRef s = block.storages().get(i);
      offsets[i] = offset(s) - block.offset();
      lengths[i] = s.nbytes();
    }
    byte[] err = NativeLibrary.errorBuffer();
    String path = block.file().toString();
    boolean ok = map
        ? NativeStorage.map_block(path, block.offset(), block.length(), offsets, lengths, n, out,
            err, err.length)
        : NativeStorage.read_block(path, block.offset(), block.length(), offsets, lengths, n,
            threads, out, err, err.length);
    if (!ok) {
      throw new CheckpointException(Kind.NATIVE,
          "cannot " + (map ? "map" : "read") + " the storages of "
          + block.file() + " (bytes " + block.offset() + " to " + (block.offset()
          + block.length()) + "): " + NativeLibrary.message(err));
    }
  }
}
