package io.ckpt4j.nativeio;

import java.nio.charset.StandardCharsets;

/**
 * The one native library of ckpt4j. Every JavaCPP class of this package names it in its
 * {@code @Platform(library = NativeLibrary.NAME)}, so JavaCPP's Builder writes all their JNI glue
 * into {@code jnickpt4j.cpp} and CMake links it with native/*.cpp into {@code libjnickpt4j.so}.
 */
public final class NativeLibrary {
  /** The library's name, as JavaCPP's Loader looks for it. */
  public static final String NAME = "jnickpt4j";

  /** Bytes of the buffer every native function writes its one-line failure message into. */
  public static final int ERROR_BUFFER_BYTES = 4096;

  private NativeLibrary() {}

  /** A fresh buffer for a native function's failure message. */
  public static byte[] errorBuffer() {
    return new byte[ERROR_BUFFER_BYTES];
  }

  /** The NUL-terminated UTF-8 message a native function wrote into {@code err}. */
  public static String message(byte[] err) {
    int n = 0;
    while (n < err.length && err[n] != 0) n++;
    return new String(err, 0, n, StandardCharsets.UTF_8);
  }
}
