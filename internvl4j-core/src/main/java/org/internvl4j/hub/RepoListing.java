package org.internvl4j.hub;

import java.util.List;

/**
 * The files of a repository at one resolved revision.
 *
 * @param repo     the repository with the revision as asked for ({@code null} means the default branch)
 * @param revision the revision that was listed (the asked-for one, or the default branch)
 * @param commit   the commit the revision pointed to; names the snapshot folder
 * @param files    every file in the repository at that commit
 */
public record RepoListing(RepoId repo, String revision, String commit, List<RemoteFile> files) {
    public RepoListing {
        files = List.copyOf(files);
    }
}
