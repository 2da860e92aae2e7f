package io.ckpt4j.nativeio;

/**
 * The one native library of ckpt4j. Every JavaCPP class of this package names it in its
 * {@code @Platform(library = NativeLibrary.NAME)}, so JavaCPP's Builder writes all their JNI glue
 * into {@code jnickpt4j.cpp} and CMake links it with native/*.cpp into {@code libjnickpt4j.so}.
 */
public final class NativeLibrary {
  /** The library's name, as JavaCPP's Loader looks for it. */
  public static final String NAME = "jnickpt4j";

  private NativeLibrary() {}
}
