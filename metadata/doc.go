// Package metadata owns the squads' product metadata: it loads and validates the
// qem-bot YAML format (file:line problems), holds the live set for reloads, and matches packages and channels.
package metadata
