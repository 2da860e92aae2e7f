package io.ckpt4j.tensor;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

/** A tensor's element bytes, in row-major order, as {@code t.contiguous().view(torch.uint8)}. */
public final class TensorBytes {
  /** The largest slice handed to a ByteBuffer at once (ByteBuffers index with int). */
  private static final long CHUNK = 1L << 30;

  private TensorBytes() {}

  /** Hex SHA-256 of the elements' bytes (little-endian, row-major), e.g. for {@code inspect}. */
  public static String sha256(Tensor tensor) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    forEachChunk(tensor, md::update);
    return HexFormat.of().formatHex(md.digest());
  }

  /** A CPU, contiguous copy with torch's lazy conjugate/negative bits applied to the values. */
  private static Tensor resolved(Tensor tensor) {
    try (Tensor conj = tensor.resolve_conj();
        Tensor neg = conj.resolve_neg();
        Tensor cpu = neg.cpu()) {
      return cpu.contiguous();
    }
  }

  /** Hands the elements' bytes to {@code sink} in order, in chunks, without copying them. */
  public static void forEachChunk(Tensor tensor, java.util.function.Consumer<ByteBuffer> sink) {
    boolean lazyBits = tensor.is_conj() || tensor.is_neg();
    boolean copy = lazyBits || !tensor.is_cpu() || !tensor.is_contiguous();
    Tensor c = copy ? resolved(tensor) : tensor;
    try {
      long n = c.nbytes();
      if (n == 0) return;
      BytePointer base = new BytePointer(c.data_ptr());
      for (long pos = 0; pos < n; pos += CHUNK) {
        long len = Math.min(CHUNK, n - pos);
        BytePointer slice = new BytePointer(base).position(pos).limit(pos + len);
        sink.accept(slice.asByteBuffer());
      }
    } finally {
      if (copy) c.close();
    }
  }
}
