package logging

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples and the README's code name their logger so that it does not
// shadow the standard log package, and ExampleSetup logs Setup's error the
// README's way: one record per problem (logging.Problems), not one long
// line.
func TestExamplesDoNotShadowLog(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", nil, 0)
	require.NoError(t, err)
	var shadows []string
	usesProblems := false
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == "log" {
						shadows = append(shadows, fset.Position(id.Pos()).String())
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				if id.Name == "log" {
					shadows = append(shadows, fset.Position(id.Pos()).String())
				}
			}
		case *ast.FuncDecl:
			if n.Name.Name == "ExampleSetup" {
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if sel, ok := m.(*ast.SelectorExpr); ok && sel.Sel.Name == "Problems" {
						usesProblems = true
					}
					return true
				})
			}
		}
		return true
	})
	assert.Empty(t, shadows, "a variable named log")
	assert.True(t, usesProblems, "ExampleSetup logs logging.Problems(err)")

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.NotRegexp(t, regexp.MustCompile(`(?m)^\s*(var log\b|log :=)`), string(readme))
}

// Every example is run by go test: its "// Output:" comment is one that go
// test sees (the last comment of the body, starting with Output:), not a
// line inside a comment of prose, which makes the example compile only.
func TestEveryExampleRuns(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", nil, parser.ParseComments)
	require.NoError(t, err)
	exs := doc.Examples(f)
	require.NotEmpty(t, exs)
	for _, ex := range exs {
		assert.True(t, ex.Output != "" || ex.EmptyOutput, "Example%s has no output that go test checks", ex.Name)
	}
}
