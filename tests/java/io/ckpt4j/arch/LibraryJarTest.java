package io.ckpt4j.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ckpt4j.CheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The library jar (io.ckpt4j:ckpt4j) is every class but {@code io/ckpt4j/cli/**}, without the demo
 * checkpoints {@code io/ckpt4j/demo/**} (pom.xml, maven-jar-plugin), and a service that depends on
 * it does not get picocli or slf4j-simple (optional dependencies): no class it holds may name
 * them. (PackageGraphTest already keeps every package off io.ckpt4j.cli.) A class file names
 * every class, descriptor and string constant it uses in its constant pool, as UTF-8.
 */
class LibraryJarTest {
  /** What only the cli jar holds or needs, as a class file names it. */
  private static final List<String> CLI_ONLY = List.of(
      "io/ckpt4j/demo", "picocli/", "org/slf4j/simple/");

  @Test
  void noLibraryClassNamesWhatOnlyTheCliJarHasOrNeeds() throws Exception {
    Path classes = Path.of(
        CheckpointException.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path cli = classes.resolve("io/ckpt4j/cli");
    List<Path> library;
    try (Stream<Path> all = Files.walk(classes)) {
      library = all.filter(p -> p.toString().endsWith(".class") && !p.startsWith(cli)).toList();
    }
    assertFalse(library.isEmpty(), "no classes under " + classes);
    List<String> found = new ArrayList<>();
    for (Path c : library) {
      String constants = constants(c);
      for (String name : CLI_ONLY) {
        if (constants.contains(name)) found.add(classes.relativize(c) + " names " + name);
      }
    }
    assertEquals(List.of(), found, "only the cli jar has the demo data, picocli and slf4j-simple");
  }

  /** The class file's bytes as Latin-1: its constant pool's ASCII strings appear as they are. */
  private static String constants(Path classFile) throws IOException {
    return new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
  }
}
