// Package assets attaches the desk's own style sheet and script to the
// pages of the operators' interface.
//
// [Module] listens, at rank 0, to [topics.PageAddCSS] and
// [topics.PageAddJS], the Mibew PAGE_ADD_CSS and PAGE_ADD_JS alter events,
// and appends [CSS] and [JS] to the page's asset list. Other modules edit
// the same lists: one that must come after the desk's base CSS, such as a
// theme, listens at a higher rank.
package assets
