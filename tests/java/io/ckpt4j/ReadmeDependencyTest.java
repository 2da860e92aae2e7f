package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * README.md's "Use it from Maven / Gradle" snippets are what the build declares and what the
 * consumer project (tests/consumer, run by mvn verify against the installed artifact) uses: its
 * dependency block is the README's, line for line, and every coordinate the section names, Maven
 * or Gradle, CPU or CUDA, is one pom.xml declares (its default build or its gpu profile).
 */
class ReadmeDependencyTest {
  private static final String SECTION = "## Use it from Maven / Gradle";
  private static final String BEGIN = "<!-- as in README.md -->";
  private static final String END = "<!-- end of the README's lines -->";
  private static final String GPU_PROFILE = "gpu";
  private static final Pattern PROPERTY = Pattern.compile("\\$\\{([^}]+)}");
  private static final Pattern XML_DEPENDENCY = Pattern.compile(
      "<dependency>(.*?)</dependency>", Pattern.DOTALL);
  private static final Pattern EXCLUSIONS = Pattern.compile(
      "<exclusions>.*?</exclusions>", Pattern.DOTALL);
  private static final Pattern GRADLE_COORDINATE = Pattern.compile(
      "\"([\\w.-]+:[\\w.-]+:[\\w.-]+(?::[\\w.-]+)?)(?:!!)?\"");

  private static Path root;
  private static List<Block> blocks;
  private static Element pom;
  private static String version;

  /** A fenced block of the section: its language and its lines. */
  private record Block(String language, List<String> lines) {
    String text() {
      return String.join("\n", lines);
    }
  }

  @BeforeAll
  static void read() throws Exception {
    root = TestData.fixtures().toAbsolutePath().getParent().getParent();
    blocks = sectionBlocks(Files.readAllLines(root.resolve("README.md")));
    pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(root.resolve("pom.xml").toFile()).getDocumentElement();
    version = child(pom, "version").getTextContent().strip();
  }

  @Test
  void theReadmesDependencyIsTheConsumerProjects() throws IOException {
    List<String> consumer = Files.readAllLines(root.resolve("tests/consumer/pom.xml"));
    int begin = indexOf(consumer, BEGIN, 0) + 1;
    List<String> expected = new ArrayList<>();
    for (String line : consumer.subList(begin, indexOf(consumer, END, begin))) {
      expected.add(line.strip().replace("@project.version@", version));
    }
    Block first = blocks.stream().filter(b -> b.language().equals("xml")).findFirst()
        .orElseThrow(() -> new AssertionError("no xml block in README's " + SECTION));
    assertEquals(expected, first.lines().stream().map(String::strip).toList(),
        "README.md's dependency and tests/consumer/pom.xml's must be the same lines");
  }

  @Test
  void everyCoordinateTheReadmeNamesIsOneThePomDeclares() {
    Set<String> named = readmeCoordinates();
    Set<String> declared = new LinkedHashSet<>(declared(false));
    declared.addAll(declared(true));
    declared.add("io.ckpt4j:ckpt4j:" + version);
    Set<String> unknown = new LinkedHashSet<>(named);
    unknown.removeAll(declared);
    assertTrue(unknown.isEmpty(), "README.md names coordinates pom.xml does not declare: "
        + unknown + "; pom.xml declares " + declared);
    assertTrue(named.contains("io.ckpt4j:ckpt4j:" + version), named.toString());
  }

  @Test
  void theCudaSnippetHasEverythingTheGpuProfileAdds() {
    Set<String> gpuOnly = new LinkedHashSet<>(declared(true));
    gpuOnly.removeAll(declared(false));
    assertFalse(gpuOnly.isEmpty(), "the gpu profile adds nothing?");
    Set<String> missing = new LinkedHashSet<>(gpuOnly);
    missing.removeAll(readmeCoordinates());
    assertTrue(missing.isEmpty(), "README.md's CUDA snippet lacks " + missing);
  }

  /** group:artifact:version[:classifier] of every dependency the section's blocks name. */
  private static Set<String> readmeCoordinates() {
    Set<String> out = new LinkedHashSet<>();
    for (Block b : blocks) {
      if (b.language().equals("xml")) {
        Matcher m = XML_DEPENDENCY.matcher(b.text());
        while (m.find()) {
          String d = EXCLUSIONS.matcher(m.group(1)).replaceAll("");
          out.add(coordinate(tag(d, "groupId"), tag(d, "artifactId"), tag(d, "version"),
              tag(d, "classifier")));
        }
      } else if (b.language().equals("kotlin")) {
        Matcher m = GRADLE_COORDINATE.matcher(b.text());
        while (m.find()) out.add(m.group(1));
      }
    }
    return out;
  }

  /** The coordinates pom.xml's dependencies resolve to, with or without the gpu profile. */
  private static Set<String> declared(boolean gpu) {
    Map<String, String> properties = new HashMap<>();
    List<Element> dependencies = new ArrayList<>(children(child(pom, "dependencies"), "dependency"));
    properties.putAll(textsOf(child(pom, "properties")));
    if (gpu) {
      for (Element profile : children(child(pom, "profiles"), "profile")) {
        if (!child(profile, "id").getTextContent().strip().equals(GPU_PROFILE)) continue;
        properties.putAll(textsOf(child(profile, "properties")));
        dependencies.addAll(children(child(profile, "dependencies"), "dependency"));
      }
    }
    Set<String> out = new LinkedHashSet<>();
    for (Element d : dependencies) {
      if (child(d, "scope") != null) continue; // test scope: not what a consumer gets
      Element classifier = child(d, "classifier");
      out.add(coordinate(resolve(child(d, "groupId"), properties),
          resolve(child(d, "artifactId"), properties), resolve(child(d, "version"), properties),
          classifier == null ? null : resolve(classifier, properties)));
    }
    return out;
  }

  private static String coordinate(String group, String artifact, String version,
      String classifier) {
    return group + ":" + artifact + ":" + version + (classifier == null ? "" : ":" + classifier);
  }

  private static String resolve(Element e, Map<String, String> properties) {
    String value = e.getTextContent().strip();
    for (Matcher m = PROPERTY.matcher(value); m.find(); m = PROPERTY.matcher(value)) {
      String replacement = properties.get(m.group(1));
      if (replacement == null) throw new AssertionError("pom.xml has no property " + m.group(1));
      value = value.substring(0, m.start()) + replacement + value.substring(m.end());
    }
    return value;
  }

  private static String tag(String xml, String name) {
    Matcher m = Pattern.compile("<" + name + ">([^<]*)</" + name + ">").matcher(xml);
    return m.find() ? m.group(1).strip() : null;
  }

  private static Map<String, String> textsOf(Element e) {
    Map<String, String> out = new HashMap<>();
    if (e == null) return out;
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c) out.put(c.getTagName(), c.getTextContent().strip());
    }
    return out;
  }

  private static Element child(Element parent, String name) {
    List<Element> all = children(parent, name);
    return all.isEmpty() ? null : all.get(0);
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    if (parent == null) return out;
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) out.add(c);
    }
    return out;
  }

  /** The fenced blocks between the section's heading and the next heading of its level. */
  private static List<Block> sectionBlocks(List<String> readme) {
    int from = indexOf(readme, SECTION, 0) + 1;
    List<Block> out = new ArrayList<>();
    for (int i = from; i < readme.size() && !readme.get(i).startsWith("## "); i++) {
      if (!readme.get(i).startsWith("```")) continue;
      int end = indexOf(readme, "```", i + 1);
      out.add(new Block(readme.get(i).substring(3).strip(), readme.subList(i + 1, end)));
      i = end;
    }
    return out;
  }

  private static int indexOf(List<String> lines, String line, int from) {
    for (int i = from; i < lines.size(); i++) if (lines.get(i).strip().equals(line)) return i;
    throw new AssertionError("no line '" + line + "' after line " + from);
  }
}
