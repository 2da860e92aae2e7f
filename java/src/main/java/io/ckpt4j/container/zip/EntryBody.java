package io.ckpt4j.container.zip;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * Writes the bytes of one zip entry, typically a tensor storage copied straight from native
 * memory in chunks. It must write exactly the size given to {@link ZipWriter#writeEntry(String,
 * long, EntryBody)}; writing more fails at once, writing less fails when the body returns.
 */
@FunctionalInterface
public interface EntryBody {
  /**
   * Writes the entry's bytes to {@code out}. Do not close {@code out}; it is valid only during
   * this call.
   */
  void writeTo(WritableByteChannel out) throws IOException;
}
