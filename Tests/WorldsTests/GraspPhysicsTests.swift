import Foundation
import Testing
import Tensors
import Worlds

// Default geometry: floorY 63, palm half-thickness 1, fingertips 11 px below the palm centre,
// gripper x ∈ [10, 54], y ∈ [1, 52].

private let config = GraspConfig()

private func block(x: Float, size: Float = 4, bottom: Float = 63) -> GraspObject {
    GraspObject(kind: .block, x: x, y: bottom - size, size: size)
}

private func sim(gx: Float, gy: Float, opening: Float, objects: [GraspObject]) -> GraspSimulator {
    GraspSimulator(config: config, state: GraspState(gripperX: gx, gripperY: gy, opening: opening, objects: objects))
}

@Test func graspEnclosedObjectIsHeldAndCarried() {
    var s = sim(gx: 32, gy: 52, opening: 16, objects: [block(x: 32)])
    for _ in 0..<8 { s.step([0, 0, 1]) }
    #expect(s.state.objects[0].held)
    #expect(s.state.opening == 8)   // the fingers stop at the block's width
    let offset = s.state.objects[0].y - s.state.gripperY
    for _ in 0..<10 { s.step([0.3, -1, 1]) }
    #expect(s.state.objects[0].held)
    #expect(abs(s.state.objects[0].y - s.state.gripperY - offset) < 1e-4)
    #expect(abs(s.state.objects[0].x - s.state.gripperX) < 1e-4)
    #expect(s.state.objects[0].bottom < 63 - 20)
}

@Test func graspClosingPushesOffCentreObjectToTheMiddle() {
    var s = sim(gx: 34, gy: 52, opening: 16, objects: [block(x: 31, size: 3)])
    for _ in 0..<10 { s.step([0, 0, 1]) }
    #expect(s.state.objects[0].held)
    #expect(abs(s.state.objects[0].x - 34) < 1e-4)
    #expect(abs(s.state.opening - 6) < 1e-4)
}

@Test func graspNotHeldWhenClosingBesideOrAbove() {
    // Beside: the left finger's inner edge is at 36 = the block's right edge; the block is not between the fingers.
    var beside = sim(gx: 44, gy: 52, opening: 16, objects: [block(x: 32)])
    for _ in 0..<12 { beside.step([0, 0, 1]) }
    #expect(!beside.state.objects[0].held)
    #expect(beside.state.opening == config.minOpening)
    #expect(beside.state.objects[0].x == 32)
    // Above: the fingertips end 14 px above the block's top.
    var above = sim(gx: 32, gy: 30, opening: 16, objects: [block(x: 32)])
    for _ in 0..<12 { above.step([0, 0, 1]) }
    #expect(!above.state.objects[0].held)
    #expect(above.state.opening == config.minOpening)
    // Barely touching: 1 px of vertical overlap (< minGraspOverlap 2) is not a grasp.
    var shallow = sim(gx: 32, gy: 45, opening: 16, objects: [block(x: 32)])
    for _ in 0..<12 { shallow.step([0, 0, 1]) }
    #expect(!shallow.state.objects[0].held)
    #expect(shallow.state.opening == 8)   // but the fingers still cannot pass through it
}

@Test func graspReleasedObjectFallsAndRests() {
    var s = sim(gx: 32, gy: 52, opening: 16, objects: [block(x: 32)])
    for _ in 0..<8 { s.step([0, 0, 1]) }
    for _ in 0..<12 { s.step([0, -1, 1]) }
    #expect(s.state.objects[0].held)
    let heightBefore = s.state.objects[0].bottom
    s.step([0, 0, -1])
    #expect(!s.state.objects[0].held)
    var fell = false
    for _ in 0..<40 {
        s.step([0, 0, -1])
        if s.state.objects[0].bottom > heightBefore + 1 { fell = true }
        #expect(s.state.objects[0].bottom <= config.floorY + 1e-4)
    }
    #expect(fell)
    #expect(s.state.objects[0].isResting(floorY: config.floorY))
    #expect(s.state.objects[0].bottom == config.floorY)
}

@Test func graspFingersLandOnTopOfObjects() {
    // Closed fingers over a block cannot descend through it: the fingertips stop on its top (y 55).
    var s = sim(gx: 32, gy: 20, opening: 2, objects: [block(x: 32)])
    for _ in 0..<30 { s.step([0, 1, 0]) }
    #expect(abs(s.state.gripperY + config.reach - 55) < 1e-4)
    // With the fingers open the gripper descends around it to the floor.
    var open = sim(gx: 32, gy: 20, opening: 16, objects: [block(x: 32)])
    for _ in 0..<30 { open.step([0, 1, 0]) }
    #expect(open.state.gripperY == config.gripperYMax)
}

@Test func graspActionsAreClipped() {
    var s = sim(gx: 32, gy: 20, opening: 10, objects: [block(x: 15, size: 3)])
    s.step([5, 5, 5])
    #expect(abs(s.state.gripperX - 32 - config.maxSpeed) < 1e-4)
    #expect(abs(s.state.gripperY - 20 - config.maxSpeed) < 1e-4)
    #expect(abs(10 - s.state.opening - config.gripRate) < 1e-4)
    s.step([-100, .nan, -7])
    #expect(abs(s.state.gripperX - 32) < 1e-4)
    #expect(abs(s.state.gripperY - 20 - config.maxSpeed) < 1e-4)
    #expect(abs(s.state.opening - 10) < 1e-4)
    s.step([])   // missing entries count as 0
    #expect(abs(s.state.gripperX - 32) < 1e-4)
}

@Test func graspInvariantsUnderRandomActions() {
    var c = GraspConfig()
    c.objectCount = 3
    c.minObjectSize = 3; c.maxObjectSize = 4
    #expect(throws: Never.self) { try c.validate() }
    for seed in 0..<12 {
        var s = GraspSimulator(config: c, seed: UInt64(seed))
        var policy = GraspRandomPolicy(config: c, rng: RandomGenerator(seed: UInt64(1000 + seed)))
        for _ in 0..<300 {
            s.step(policy.action())
            let st = s.state
            #expect(st.gripperX >= c.gripperXMin && st.gripperX <= c.gripperXMax)
            #expect(st.gripperY >= c.gripperYMin && st.gripperY + c.reach <= c.floorY + 1e-4)
            #expect(st.opening >= c.minOpening && st.opening <= c.maxOpening)
            #expect(st.objects.filter(\.held).count <= 1)
            for o in st.objects {
                #expect(o.left >= -1e-4 && o.right <= Float(c.width) + 1e-4)
                #expect(o.top >= -1e-4 && o.bottom <= c.floorY + 1e-4)
            }
        }
        // Open the fingers and back off: every object comes to rest on the floor.
        for _ in 0..<60 { s.step([0, -1, -1]) }
        for o in s.state.objects { #expect(o.isResting(floorY: c.floorY)) }
    }
}

@Test func graspRandomInitialStateRestsOnFloorApart() {
    var c = GraspConfig()
    c.objectCount = 3
    for seed in 0..<20 {
        let s = GraspSimulator(config: c, seed: UInt64(seed)).state
        #expect(s.objects.count == 3)
        for (i, o) in s.objects.enumerated() {
            #expect(o.bottom == c.floorY && o.vx == 0 && o.vy == 0 && !o.held)
            #expect(o.size >= c.minObjectSize && o.size <= c.maxObjectSize)
            for p in s.objects[..<i] { #expect(abs(o.x - p.x) >= o.size + p.size + c.objectGap - 1e-4) }
        }
        var stepped = GraspSimulator(config: c, state: s)
        stepped.step([0, 0, 0])
        for (a, b) in zip(s.objects, stepped.state.objects) { #expect(a == b) }   // resting objects stay put
    }
}

@Test func graspRenderingPixels() {
    let state = GraspState(gripperX: 20, gripperY: 20, opening: 10, objects: [
        block(x: 45, size: 4),
        GraspObject(kind: .ball, x: 30, y: 59, size: 4),
    ])
    var frame: [UInt8] = []
    GraspRenderer(config: config).render(state: state, into: &frame)
    #expect(frame.count == 64 * 64)
    func px(_ row: Int, _ col: Int) -> UInt8 { frame[row * 64 + col] }
    #expect(px(20, 20) == 110)          // palm centre
    #expect(px(20, 13) == 110)          // palm spans both fingers (x 13...27)
    #expect(px(26, 14) == 110)          // left finger (x 13...15)
    #expect(px(26, 25) == 110)          // right finger (x 25...27)
    #expect(px(26, 20) == 0)            // the gap between the fingers
    #expect(px(31, 14) == 0)            // below the fingertips (y 31)
    #expect(px(59, 45) == 255)          // block centre
    #expect(px(59, 30) == 200)          // ball centre
    #expect(px(55, 30) > 0 && px(55, 30) < 200)   // anti-aliased rim
    #expect(px(59, 38) == 0)            // between the objects
    #expect(px(5, 5) == 0)              // background
    #expect(px(63, 5) == 60)            // floor line
    #expect(frame.filter { $0 == 110 }.count > 20)
}
