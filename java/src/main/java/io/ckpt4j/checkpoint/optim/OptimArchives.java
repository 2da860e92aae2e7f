package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * LibTorch's serialize archives, the one door the presets open into a C++ optimizer's per-parameter
 * state ({@code torch::optim::serialize}: {@code Optimizer::save} / {@code load}). An
 * {@link OutputArchive} is turned into an {@link InputArchive} through a temporary file (state can
 * be large) or in memory (a few options).
 */
final class OptimArchives {
  private OptimArchives() {}

  /** The archive written to a temporary file and read back; the file is deleted. */
  static InputArchive viaFile(OutputArchive out) throws CheckpointException {
    Path temp = null;
    try {
      temp = Files.createTempFile("ckpt4j-optimizer-", ".pt");
      out.save_to(temp.toString());
      InputArchive in = new InputArchive();
      in.load_from(temp.toString());
      return in;
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(e instanceof IOException ? Kind.IO : Kind.NATIVE,
          "cannot pass the optimizer state through a LibTorch archive in "
              + (temp == null ? "the temporary directory" : temp) + ": "
              + CheckpointException.firstLine(e), e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // a leftover temporary file is harmless
        }
      }
    }
  }

  /** The archive serialized in memory and read back (for small archives: options). */
  static InputArchive inMemory(OutputArchive out) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (ArchiveWriter writer = new ArchiveWriter() {
          @Override
          public long call(Pointer data, long size) {
            byte[] chunk = new byte[Math.toIntExact(size)];
            new BytePointer(data).capacity(size).get(chunk);
            bytes.write(chunk, 0, chunk.length);
            return size;
          }
        }) {
      out.save_to(writer);
    }
    byte[] data = bytes.toByteArray();
    try (BytePointer p = new BytePointer(data)) {
      InputArchive in = new InputArchive();
      in.load_from(p, data.length);
      return in;
    }
  }

  /** A 0-dim int64 tensor: the archives' {@code .../size} entries. */
  static Tensor sizeTensor(long value) {
    try (TensorOptions options = new TensorOptions(torch.ScalarType.Long);
        Scalar s = new Scalar(value)) {
      return torch.scalar_tensor(s, options);
    }
  }

  /** {@code archive.read(key)} as an IValue, or null when absent. */
  static IValue tryRead(InputArchive archive, String key) {
    IValue v = new IValue();
    if (archive.try_read(key, v)) return v;
    v.close();
    return null;
  }
}
