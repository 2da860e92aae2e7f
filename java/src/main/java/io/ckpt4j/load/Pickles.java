package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.PersistentLoader;
import io.ckpt4j.pickle.PickleOptions;
import io.ckpt4j.pickle.PickleReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The one place the load layer runs the restricted unpickler. */
final class Pickles {
  private Pickles() {}

  /**
   * Unpickles one pickle starting at {@code buf}'s position and leaves the position after its
   * STOP. {@code persistent} may be null (PERSID is then an error).
   */
  static Object load(ByteBuffer buf, GlobalResolver resolver, PersistentLoader persistent,
      String where) throws CheckpointException {
    // Python 2 str in legacy files: torch.load decodes them as UTF-8 (its default encoding).
    PickleOptions.Builder options = PickleOptions.builder().resolver(resolver).where(where)
        .refusal(CheckpointGlobals::refusal).py2StringCharset(StandardCharsets.UTF_8);
    if (persistent != null) options.persistentLoader(persistent);
    return PickleReader.loadNext(buf, options.build());
  }
}
