package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Writes a storage's bytes straight from its native memory, in chunks, with no copy on the Java
 * heap: a CPU storage is read in place; a storage on another device (CUDA) is first copied to
 * host memory — one storage at a time, so at most one storage's bytes are ever duplicated.
 */
final class StorageStream {
  /**
   * Bytes handed to the channel per write: small enough that the zip writer's CRC-32 pass and the
   * write(2) copy both find the chunk in the CPU cache, large enough that calls cost nothing.
   */
  static final long CHUNK_BYTES = 1L << 20;

  private StorageStream() {}

  /**
   * Writes {@code entry}'s bytes to {@code out}; {@code hostCopy} sends a CPU storage through the
   * device path too (the test seam of {@link SaveOptions}).
   */
  static void write(SavedStorages.Entry entry, WritableByteChannel out, boolean hostCopy)
      throws IOException {
    if (entry.nbytes() == 0) return;
    try (Storage storage = entry.owner().storage(); Device device = storage.device()) {
      if (Math.addExact(entry.byteOffset(), entry.nbytes()) > storage.nbytes()) {
        throw new CheckpointException(Kind.INVALID_VALUE, "storage " + entry.key() + " shrank to "
            + storage.nbytes() + " bytes while it was being saved");
      }
      if (device.is_cpu() && !hostCopy) {
        stream(new BytePointer(storage.data()), entry.byteOffset(), entry.nbytes(), out);
      } else {
        try (Tensor host = hostCopy(storage, device, entry.byteOffset(), entry.nbytes())) {
          stream(new BytePointer(host.data_ptr()), 0, entry.nbytes(), out);
        }
      }
    }
  }

  /**
   * A CPU copy of bytes [byteOffset, byteOffset + nbytes) of {@code storage}, which lies on
   * {@code device}: a uint8 tensor the caller owns. A copy is made even for a CPU storage.
   */
  static Tensor hostCopy(Storage storage, Device device, long byteOffset, long nbytes) {
    try (DeviceOptional on = new DeviceOptional(device);
        TensorOptions bytesOptions = new TensorOptions(ScalarType.Byte);
        TensorOptions options = bytesOptions.device(on);
        Tensor bytes = torch.empty(new long[] {0}, options, null);
        Device cpu = new Device("cpu")) {
      bytes.set_(storage, byteOffset, new long[] {nbytes}, 1L);
      return bytes.to(cpu, ScalarType.Byte, false, true, null);
    }
  }

  private static void stream(BytePointer base, long offset, long nbytes, WritableByteChannel out)
      throws IOException {
    for (long pos = 0; pos < nbytes; pos += CHUNK_BYTES) {
      long from = offset + pos;
      long to = from + Math.min(CHUNK_BYTES, nbytes - pos);
      ByteBuffer chunk = new BytePointer(base).position(from).limit(to).asByteBuffer();
      while (chunk.hasRemaining()) out.write(chunk);
    }
  }
}
