package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeStorage;
import io.ckpt4j.value.AssembledSource;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Materializes {@link AssembledSource} storages: each whole tensor allocated once, contiguous, on
 * the CPU, and each of its pieces put in its box. A piece that is a band of whole rows stored
 * contiguously (how FSDP-style row shards and unsharded tensors are written) is read straight
 * from its file into its place in the tensor — one copy, as a single-file load makes; the reads
 * of all the storages asked for are split into parts read by {@code threads} threads. Any other
 * piece (a column shard, strided storage) is read into memory of its own and copied into its box
 * by LibTorch.
 */
final class ChunkAssembly {
  /** The most bytes one read task takes: large pieces are split so that threads share them. */
  private static final long PART_BYTES = 16L << 20;
  /** Below this many bytes in all, reading on one thread is as fast. */
  private static final long PARALLEL_BYTES = 64L << 20;

  /** {@code length} bytes at {@code fileOffset} of {@code file} go to {@code dest} at {@code at}. */
  private record Part(Path file, long fileOffset, Tensor dest, long at, long length, String what) {}

  /** A piece copied by LibTorch: its values, read into a storage of its own, and its box. */
  private record Copy(TensorRef values, Tensor bytes, Tensor whole, long[] shape,
      AssembledSource.Piece piece) {}

  private ChunkAssembly() {}

  /**
   * Builds the storages {@code roots} (each with an {@link AssembledSource}), in order: uint8 CPU
   * tensors of each storage's byte size, owned by the caller.
   */
  static List<Tensor> assemble(List<StorageRef> roots, int threads) throws CheckpointException {
    List<Tensor> out = new ArrayList<>();
    List<Part> parts = new ArrayList<>();
    List<Copy> copies = new ArrayList<>();
    try {
      for (StorageRef root : roots) {
        Tensor whole = bytes(root.nbytes());
        out.add(whole);
        plan(root, whole, parts, copies);
      }
      read(parts, threads);
      for (Copy c : copies) copyInto(c);
      return out;
    } catch (CheckpointException | RuntimeException e) {
      for (Tensor t : out) t.close();
      throw e;
    } finally {
      for (Copy c : copies) c.bytes().close();
    }
  }

  private static void plan(StorageRef root, Tensor whole, List<Part> parts, List<Copy> copies)
      throws CheckpointException {
    AssembledSource source = (AssembledSource) root.source();
    long[] shape = source.shape();
    long itemSize = root.dtype().itemSize();
    long rowElements = 1;
    for (int d = 1; d < shape.length; d++) rowElements = Math.multiplyExact(rowElements, shape[d]);
    for (AssembledSource.Piece piece : source.pieces()) {
      TensorRef values = piece.reader().read();
      String what = "chunk at " + Arrays.toString(piece.box().offsets()) + " of '" + root.key() + "'";
      if (values.dtype() != root.dtype() || !Arrays.equals(values.shape(), piece.box().sizes())) {
        throw new CheckpointException(Kind.INVALID_TENSOR, what + " holds a " + values.dtype()
            + " tensor of sizes " + Arrays.toString(values.shape()) + ", but the metadata says "
            + root.dtype() + " " + Arrays.toString(piece.box().sizes())
            + ": the .distcp file and .metadata do not match; save the checkpoint again");
      }
      if (values.numel() == 0) continue;
      StorageRef.Source bytes = values.storage().source();
      if (bytes instanceof StorageRef.FileRange range && isRowBand(values, piece, shape)) {
        long from = Math.addExact(range.offset(),
            Math.multiplyExact(values.rootStorageOffset(), itemSize));
        long at = shape.length == 0 ? 0
            : Math.multiplyExact(Math.multiplyExact(piece.box().offsets()[0], rowElements), itemSize);
        split(new Part(range.file(), from, whole, at, values.nbytes(), what), parts);
      } else {
        StorageRef storage = values.storage().root();
        Tensor own = bytes(storage.nbytes());
        copies.add(new Copy(values, own, whole, shape, piece));
        if (storage.source() instanceof StorageRef.FileRange range) {
          split(new Part(range.file(), range.offset(), own, 0, storage.nbytes(), what), parts);
        } else if (storage.source() instanceof StorageRef.InMemory memory) {
          sliceOf(own, 0, storage.nbytes()).put(memory.bytes().duplicate());
        } else {
          throw new CheckpointException(Kind.INVALID_TENSOR, what + " has no bytes bound to it");
        }
      }
    }
  }

  /** Whether the piece is whole rows of the tensor, stored contiguously and plainly. */
  private static boolean isRowBand(TensorRef values, AssembledSource.Piece piece, long[] shape) {
    if (!values.isContiguous() || values.isConj() || values.isNeg()) return false;
    for (int d = 1; d < shape.length; d++) {
      if (piece.box().sizes()[d] != shape[d]) return false;
    }
    return true;
  }

  private static void split(Part part, List<Part> parts) {
    for (long done = 0; done < part.length(); done += PART_BYTES) {
      long n = Math.min(PART_BYTES, part.length() - done);
      parts.add(new Part(part.file(), part.fileOffset() + done, part.dest(), part.at() + done, n,
          part.what()));
    }
  }

  /** Reads every part, on {@code threads} threads when there is enough to share. */
  private static void read(List<Part> parts, int threads) throws CheckpointException {
    Map<Path, FileChannel> channels = new LinkedHashMap<>();
    try {
      long total = 0;
      for (Part p : parts) {
        total += p.length();
        if (!channels.containsKey(p.file())) channels.put(p.file(), open(p.file(), p.what()));
      }
      if (threads <= 1 || total < PARALLEL_BYTES || parts.size() == 1) {
        for (Part p : parts) readPart(p, channels.get(p.file()));
        return;
      }
      ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, parts.size()));
      try {
        List<Future<?>> done = new ArrayList<>();
        for (Part p : parts) {
          done.add(pool.submit(() -> {
            readPart(p, channels.get(p.file()));
            return null;
          }));
        }
        for (Future<?> f : done) f.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof CheckpointException c) throw c;
        throw new CheckpointException(Kind.IO, "cannot read a chunk: " + e.getCause(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CheckpointException(Kind.IO, "interrupted while reading chunks", e);
      } finally {
        pool.shutdownNow();
      }
    } finally {
      for (FileChannel c : channels.values()) {
        try {
          c.close();
        } catch (IOException ignored) {
          // read-only: nothing lost
        }
      }
    }
  }

  private static FileChannel open(Path file, String what) throws CheckpointException {
    try {
      return FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e),
          "cannot open " + file + " for the " + what + ": " + e.getMessage(), e);
    }
  }

  private static void readPart(Part p, FileChannel channel) throws CheckpointException {
    ByteBuffer dst = sliceOf(p.dest(), p.at(), p.length());
    long position = p.fileOffset();
    try {
      while (dst.hasRemaining()) {
        int n = channel.read(dst, position);
        if (n < 0) {
          throw new CheckpointException(Kind.TRUNCATED, p.file() + " ends at byte " + position
              + ", inside the " + p.what() + " (bytes " + p.fileOffset() + " to "
              + (p.fileOffset() + p.length()) + "): truncated file; copy it again");
        }
        position += n;
      }
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot read " + p.file() + ": " + e.getMessage(), e);
    }
  }

  /** Copies a piece read into its own storage into its box of the whole tensor. */
  private static void copyInto(Copy c) {
    TensorRef v = c.values();
    try (Tensor typed = c.bytes().view(ScalarTypes.of(v.dtype()));
        LongOptional offset = new LongOptional(v.rootStorageOffset());
        Tensor src = typed.as_strided(v.shape(), v.stride(), offset);
        Tensor wholeTyped = c.whole().view(ScalarTypes.of(v.dtype()))) {
      long[] shape = c.shape();
      Tensor box = wholeTyped.view(shape);
      long[] offsets = c.piece().box().offsets();
      long[] sizes = c.piece().box().sizes();
      for (int d = 0; d < shape.length; d++) {
        Tensor narrowed = box.narrow(d, offsets[d], sizes[d]);
        box.close();
        box = narrowed;
      }
      try (Tensor target = box) {
        if (v.isConj()) {
          try (Tensor conj = src.conj()) {
            target.copy_(conj);
          }
        } else if (v.isNeg()) {
          try (Tensor neg = src.neg()) {
            target.copy_(neg);
          }
        } else {
          target.copy_(src);
        }
      }
    }
  }

  /**
   * {@code nbytes} of fresh memory as a uint8 tensor the caller owns, allocated as read_block's
   * blocks are (huge pages where the kernel allows: with 4 KiB pages, faulting in a multi-GiB
   * assembly cost more than reading it).
   */
  private static Tensor bytes(long nbytes) throws CheckpointException {
    try (TensorVector out = new TensorVector()) {
      byte[] err = NativeLibrary.errorBuffer();
      if (!NativeStorage.empty_block(nbytes, out, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, "cannot assemble a storage of " + nbytes
            + " bytes: " + NativeLibrary.message(err));
      }
      return new Tensor(out.get(0));
    }
  }

  private static ByteBuffer sliceOf(Tensor t, long at, long length) {
    return new BytePointer(t.data_ptr()).position(at).limit(at + length).asByteBuffer();
  }
}
