/** The smallest Express flow: `hello`, one Pass state, whose output is its Input. For CreateFlow on the emulator. */
export const HELLO_PASS_FLOW = `Type: StateMachine
SpecVersion: v1
Name: hello
ExecutionMode: Express
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    End: true
`;
