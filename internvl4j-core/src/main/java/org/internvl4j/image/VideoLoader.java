package org.internvl4j.image;
// TEMP STUB (untracked)
public final class VideoLoader { public static VideoFrames load(java.nio.file.Path p, int n, double[] b, ImagePreprocessor pre) { throw new ImageException("video support has not landed yet"); } }
