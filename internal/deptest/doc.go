// Package deptest holds tests that guard the project's dependency rules.
package deptest
