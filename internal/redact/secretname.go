package redact

import "slices"

// envSecretStems are the stems that IsSecretName adds to the default keys:
// names of configuration that holds a secret without saying "password" or
// "token" in full (DB_PASS).
var envSecretStems = []string{"pass"}

// secretNames is the key matcher of IsSecretName.
var secretNames = newKeySet(slices.Concat(DefaultKeys(), envSecretStems))

// IsSecretName reports whether a configuration name (an environment
// variable, say) names a secret: whether, lowercased and without its
// separators (_ - . space), it ends with one of the default sensitive key
// stems ([DefaultKeys]: PASSWORD, TOKEN, SECRET, API_KEY, CREDENTIAL,
// PRIVATE_KEY, SIGNING_KEY, ENCRYPTION_KEY…) or with pass. It is the redactor's key matcher over those stems, without the
// keys a Config adds. It does not allocate.
func IsSecretName(name string) bool { return secretNames.match(name) }
