// Package functions implements API functions that the chat application
// calls on a thread, through [topics.ThreadFunctionCall], the Mibew
// THREAD_FUNCTION_CALL event:
//
//   - [Echo] returns its argument "text" as the result "text";
//   - [Now] returns the desk's time as the result "time", in RFC 3339, UTC.
//
// The listener fills [topics.FunctionCall.Results] only for these
// functions, and leaves calls of any other function untouched, for the
// listener that knows them. The time comes from a [Clock] that the
// container may supply; by default it is time.Now.
package functions
