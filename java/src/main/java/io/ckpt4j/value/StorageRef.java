package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One storage of a checkpoint as the file describes it: its key, element type, saved location and
 * byte length, and where its bytes lie. Nothing is read until a tensor over it is materialized.
 *
 * <p>All tensors that name the same storage key hold the same {@code StorageRef}, so they come back
 * sharing ONE LibTorch storage (tied weights, views). A legacy-format storage view (torch &lt; 0.4)
 * is a {@code StorageRef} whose {@link #root()} is another one, at {@link #byteOffsetInRoot()}.
 */
public final class StorageRef {
  private final String key;
  private final DType dtype;
  private final String location;
  private final long nbytes;
  private final StorageRef root;
  private final long byteOffsetInRoot;
  private Source source;

  /** Where a storage's bytes lie. */
  public sealed interface Source permits FileRange, InMemory, AssembledSource {}

  /** {@code nbytes} bytes at {@code offset} of a file (zip stored entries, legacy records). */
  public record FileRange(Path file, long offset) implements Source {}

  /**
   * Bytes read into memory when the storage is made, not when the file is opened: a deflated zip
   * entry, inflated by {@code reader} (each call reads it anew; the materializer asks once).
   */
  public record InMemory(Reader reader) implements Source {
    public ByteBuffer bytes() throws CheckpointException {
      return reader.read();
    }
  }

  /** Reads a storage's bytes into memory. */
  @FunctionalInterface
  public interface Reader {
    ByteBuffer read() throws CheckpointException;
  }

  private StorageRef(String key, DType dtype, String location, long nbytes, StorageRef root,
      long byteOffsetInRoot) {
    this.key = Objects.requireNonNull(key, "key");
    this.dtype = dtype;
    this.location = Objects.requireNonNull(location, "location");
    this.nbytes = nbytes;
    this.root = root;
    this.byteOffsetInRoot = byteOffsetInRoot;
  }

  /**
   * A root storage of {@code numel} elements of {@code dtype}, or of {@code numel} bytes when
   * {@code dtype} is null (torch's UntypedStorage).
   */
  public static StorageRef of(String key, DType dtype, String location, long numel, String where)
      throws CheckpointException {
    if (numel < 0) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage " + key + " in " + where + " declares a negative size (" + numel + ")");
    }
    long itemSize = dtype == null ? 1 : dtype.itemSize();
    long nbytes;
    try {
      nbytes = Math.multiplyExact(numel, itemSize);
    } catch (ArithmeticException e) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage " + key + " in " + where + " declares " + numel
          + " elements of " + dtype + ": the byte size overflows 64 bits");
    }
    return new StorageRef(key, dtype, location, nbytes, null, 0);
  }

  /**
   * A legacy storage view: {@code numel} elements starting {@code elementOffset} elements into
   * {@code root}.
   */
  public static StorageRef view(String key, StorageRef root, long elementOffset, long numel,
      String where) throws CheckpointException {
    long itemSize = root.itemSize();
    try {
      long begin = Math.multiplyExact(elementOffset, itemSize);
      long length = Math.multiplyExact(numel, itemSize);
      if (elementOffset < 0 || numel < 0 || Math.addExact(begin, length) > root.nbytes) {
        throw new ArithmeticException();
      }
      return new StorageRef(key, root.dtype, root.location, length, root, begin);
    } catch (ArithmeticException e) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage view " + key + " in " + where + " ([" + elementOffset
          + ", +" + numel + ") elements) lies outside its root storage " + root.key + " ("
          + root.nbytes / itemSize + " elements)");
    }
  }

  public String key() {
    return key;
  }

  /** The typed storage's element type, or null for an UntypedStorage (bytes). */
  public DType dtype() {
    return dtype;
  }

  /** The location saved in the file, e.g. {@code cpu} or {@code cuda:1}. */
  public String location() {
    return location;
  }

  public long nbytes() {
    return nbytes;
  }

  /** The root of a view, or this storage itself. */
  public StorageRef root() {
    return root == null ? this : root;
  }

  public long byteOffsetInRoot() {
    return byteOffsetInRoot;
  }

  long itemSize() {
    return dtype == null ? 1 : dtype.itemSize();
  }

  /** Where the bytes of this root storage lie; null until the container reader binds them. */
  public Source source() {
    return root().source;
  }

  /** Binds a root storage to its bytes (done once by the container reader). */
  public void bind(Source source) {
    if (root != null) throw new IllegalStateException("bind the root storage, not a view");
    if (this.source != null) throw new IllegalStateException("storage " + key + " is bound already");
    this.source = Objects.requireNonNull(source, "source");
  }

  @Override
  public String toString() {
    return "StorageRef[" + key + ", " + (dtype == null ? "bytes" : dtype) + ", " + location + ", "
        + nbytes + " bytes]";
  }
}
