package shop

// This file stands for a generated one: Generate skips it.
var Docs = 1
