// Package forge owns qemgate's conversation with Gitea: the narrow Forge interface the jobs use
// (PRs, files, reviews, statuses, comments) and its one implementation on code.gitea.io/sdk/gitea.
package forge
